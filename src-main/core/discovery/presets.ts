// The home-lab apps Gatehouse recognises, with the route options each needs ("Map it" prefills the
// route form from these). How each is recognised lives in fingerprints.ts, keyed by the same id;
// docs/presets.md is generated from both (test/unit/discovery-presets.test.ts keeps it in step).
//
// Every `source` is where the fingerprint was read: the app's own source or documentation, or (for
// closed appliances) a public fingerprint database. An app whose fingerprint could not be checked
// against a source is left out rather than guessed.
import type { AppPreset } from '../../../shared/status.js';
import type { PresetCheck } from '../../../shared/upstreams.js';

type PresetOptions = Partial<Pick<AppPreset, 'scheme' | 'websocket' | 'insecureUpstreamTls' | 'largeUploads' | 'notes' | 'healthCheck'>>;

function preset(id: string, app: string, suggestedName: string, defaultPorts: number[], source: string, options: PresetOptions = {}): AppPreset {
  return {
    id,
    app,
    suggestedName,
    defaultPorts,
    scheme: options.scheme ?? 'http',
    websocket: options.websocket ?? false,
    insecureUpstreamTls: options.insecureUpstreamTls ?? false,
    largeUploads: options.largeUploads ?? false,
    notes: options.notes ?? null,
    healthCheck: options.healthCheck ?? null,
    source,
  };
}

/**
 * An app's own health endpoint, answered without signing in: it passes on a 2xx (a 404 means the
 * route points at something else) and, with `bodyContains`, only when the answer says so. Each is
 * checked against the app's source or documentation, named in a comment where it is used; apps
 * without one that could be checked keep the route's default check (GET /, any 200–499 answer).
 */
function check(path: string, bodyContains: string | null = null): { healthCheck: PresetCheck } {
  return { healthCheck: { path, statusFrom: 200, statusTo: 299, bodyContains } };
}

/** Self-signed HTTPS out of the box: the route speaks HTTPS upstream without verifying it. */
const appliance = { scheme: 'https', insecureUpstreamTls: true } as const;

export const presets: readonly AppPreset[] = [
  // Media
  preset('jellyfin', 'Jellyfin', 'jellyfin', [8096, 8920], 'https://github.com/jellyfin/jellyfin/blob/HEAD/MediaBrowser.Model/System/PublicSystemInfo.cs', {
    // Jellyfin.Server/Startup.cs maps ASP.NET health checks at /health: 200 "Healthy" (503 "Unhealthy" when its database fails).
    ...check('/health', 'Healthy'),
    websocket: true,
    notes: 'It does not announce itself over mDNS: use "Probe a host". 8920 is its optional HTTPS port.',
  }),
  preset('emby', 'Emby', 'emby', [8096, 8920], 'https://dev.emby.media/reference/RestAPI/SystemService/getSystemInfoPublic.html', {
    websocket: true,
    // The source link: the public system info answers without signing in (asked as fingerprints.ts asks it).
    ...check('/emby/System/Info/Public'),
  }),
  preset('plex', 'Plex Media Server', 'plex', [32400], 'https://github.com/ben221199/API-Documentation/blob/HEAD/Documentation/Plex/PlexAPI.md', {
    // GET /identity answers 200 with its machineIdentifier without a token, where / answers 401 (same source).
    ...check('/identity', 'machineIdentifier'),
    websocket: true,
    notes: 'Plex apps outside the LAN still connect through plex.tv; the route serves the web app at /web.',
  }),
  preset('immich', 'Immich', 'immich', [2283], 'https://github.com/immich-app/immich/blob/HEAD/server/src/controllers/server.controller.ts', {
    // server.controller.ts: GET /api/server/ping, not authenticated, answers {"res":"pong"}.
    ...check('/api/server/ping', 'pong'),
    websocket: true,
    largeUploads: true,
    notes: 'Phone backups upload whole videos: any proxy in front of Gatehouse needs a large body limit too.',
  }),
  // Home and automation
  preset('home-assistant', 'Home Assistant', 'homeassistant', [8123], 'https://github.com/home-assistant/frontend/blob/HEAD/src/html/index.html.template', {
    // homeassistant/components/frontend/__init__.py: ManifestJSONView serves /manifest.json with requires_auth = False.
    ...check('/manifest.json'),
    websocket: true,
    notes: 'Home Assistant refuses proxied requests until this machine is listed in http: trusted_proxies with use_x_forwarded_for: true.',
  }),
  // Files and documents
  preset('nextcloud', 'Nextcloud', 'nextcloud', [80, 443], 'https://github.com/nextcloud/server/blob/HEAD/status.php', {
    // status.php answers JSON without signing in; "installed":true once set up (a fresh or broken install says false).
    ...check('/status.php', '"installed":true'),
    largeUploads: true,
    notes: "Add the route's name to trusted_domains in config.php, and this machine to trusted_proxies.",
  }),
  preset('paperless-ngx', 'Paperless-ngx', 'paperless', [8000], 'https://github.com/paperless-ngx/paperless-ngx/blob/HEAD/src/documents/templates/paperless-ngx/base.html', {
    websocket: true,
    largeUploads: true,
    notes: "Set PAPERLESS_URL to the route's https address, or logins fail the CSRF check.",
  }),
  preset('syncthing', 'Syncthing', 'syncthing', [8384], 'https://docs.syncthing.net/rest/noauth-health-get.html', {
    // The source link: GET /rest/noauth/health needs no API key and returns {"status": "OK"}.
    ...check('/rest/noauth/health', 'OK'),
    notes: "Its web GUI refuses unknown Host names: rewrite Host to the upstream's, or allow the name in its GUI settings.",
  }),
  // Monitoring and admin
  preset('grafana', 'Grafana', 'grafana', [3000], 'https://grafana.com/docs/grafana/latest/developers/http_api/other/', {
    // The source link's Health API: GET /api/health, 200 with "database": "ok" (503 when its database fails).
    ...check('/api/health'),
    websocket: true,
    notes: "Set root_url in grafana.ini to the route's https address.",
  }),
  preset('uptime-kuma', 'Uptime Kuma', 'uptime', [3001], 'https://github.com/louislam/uptime-kuma/blob/HEAD/index.html', {
    websocket: true,
    notes: 'The dashboard is live over a WebSocket (socket.io): without it the page stays empty.',
  }),
  preset('portainer', 'Portainer', 'portainer', [9443, 9000], 'https://github.com/portainer/portainer/blob/HEAD/api/http/handler/system/status.go', {
    // api/http/handler/system/handler.go puts /system/status on its public router (served under /api).
    ...check('/api/system/status'),
    ...appliance,
    websocket: true,
    notes: '9443 serves a self-signed certificate; 9000 is its plain HTTP port when enabled. Container consoles need WebSockets.',
  }),
  preset('proxmox-ve', 'Proxmox VE', 'proxmox', [8006], 'https://github.com/proxmox/pve-manager/blob/HEAD/www/index.html.tpl', {
    ...appliance,
    websocket: true,
    largeUploads: true,
    notes: 'VM consoles (noVNC, xterm.js) need WebSockets; ISO uploads are large.',
  }),
  preset('synology-dsm', 'Synology DSM', 'nas', [5001, 5000], 'https://github.com/r0eXpeR/fingerprint/blob/HEAD/WhatWeb--Plus/synology-diskstation.rb', {
    ...appliance,
    largeUploads: true,
    notes: '5001 is its HTTPS port (self-signed out of the box); 5000 is plain HTTP.',
  }),
  preset('truenas', 'TrueNAS', 'truenas', [443, 80], 'https://github.com/truenas/webui/blob/HEAD/src/index.html', {
    ...appliance,
    websocket: true,
    largeUploads: true,
    notes: 'Its web UI talks to the middleware over a WebSocket only.',
  }),
  // Network
  preset('pi-hole', 'Pi-hole', 'pihole', [80, 443], 'https://github.com/pi-hole/web/blob/HEAD/scripts/lua/header.lp', {
    notes: 'The web interface lives under /admin/.',
  }),
  preset('unifi-network', 'UniFi Network', 'unifi', [8443], 'https://ubntwiki.com/products/software/unifi-controller/api', {
    ...appliance,
    websocket: true,
    notes: '8443 serves a self-signed certificate. Access points keep informing the controller on port 8080 directly, not through the route.',
  }),
  preset('adguard-home', 'AdGuard Home', 'adguard', [80, 3000], 'https://github.com/AdguardTeam/AdGuardHome/blob/HEAD/internal/home/authhttp.go', {
    notes: 'Port 3000 is its first-run setup; afterwards the web interface moves to the port chosen there (80 by default).',
  }),
  // Passwords and code
  preset('vaultwarden', 'Vaultwarden', 'vault', [80], 'https://github.com/dani-garcia/vaultwarden/blob/HEAD/src/api/core/mod.rs', {
    // src/api/core/mod.rs: GET /alive (mounted under /api) also checks its database connection.
    ...check('/api/alive'),
    websocket: true,
    notes: 'Browsers only open the web vault over HTTPS: keep the route on the local CA. Live sync uses a WebSocket.',
  }),
  preset('forgejo', 'Forgejo', 'git', [3000], 'https://forgejo.org/docs/v1.20/user/semver', {
    largeUploads: true,
    notes: "Set ROOT_URL in app.ini to the route's https address. Git pushes and LFS objects can be large.",
  }),
  preset('gitea', 'Gitea', 'git', [3000], 'https://github.com/go-gitea/gitea/blob/HEAD/routers/api/v1/misc/version.go', {
    largeUploads: true,
    notes: "Set ROOT_URL in app.ini to the route's https address. Git pushes and LFS objects can be large.",
  }),
  // Chat
  preset('mattermost', 'Mattermost', 'chat', [8065], 'https://pub.dev/documentation/mattermost_api/latest/mattermost.api/MattermostSystemApi/getPing.html', {
    // The source link: GET /api/v4/system/ping, the server's own health check, no sign-in.
    ...check('/api/v4/system/ping'),
    websocket: true,
    largeUploads: true,
    notes: "Set the Site URL (ServiceSettings.SiteURL) to the route's https address.",
  }),
];

/** The preset with this id, or undefined. */
export function presetById(id: string): AppPreset | undefined {
  return presets.find((candidate) => candidate.id === id);
}
