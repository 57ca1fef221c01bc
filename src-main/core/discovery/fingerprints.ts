// How Gatehouse recognises each preset, from what its public source or documentation shows (the
// preset's `source`). Two kinds of sign:
// - on the landing page (title, body, redirect), read anyway: proof on its own, no extra request;
// - a well-known endpoint, asked only when the landing page names the app or the port is one of its
//   defaults, so identifying a service costs a few requests at most.
// Each check returns its evidence in plain words, or null.

/** What the landing page showed, after at most two same-host redirects. */
export interface LandingPage {
  status: number;
  title: string | null;
  server: string | null;
  /** The start of the body (capped). */
  body: string;
  /** Every Location header followed or seen, as sent. */
  redirects: string[];
}

/** One answer from a well-known endpoint. */
export interface EndpointAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  title: string | null;
}

export interface EndpointCheck {
  path: string;
  /** Evidence such as `GET /status.php: productname "Nextcloud"`, or null. */
  check(answer: EndpointAnswer): string | null;
}

export interface Fingerprint {
  presetId: string;
  /** For docs/presets.md: how it is recognised, in one sentence. */
  recognisedBy: string;
  landing?: (page: LandingPage) => string | null;
  endpoints?: EndpointCheck[];
}

/** The body parsed as a JSON object, or null. */
function jsonObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function stringField(object: Record<string, unknown> | null, key: string): string | null {
  const value = object?.[key];
  return typeof value === 'string' ? value : null;
}

/** A JSON endpoint whose field `key` passes `accept`: evidence `GET path: key "value"`. */
function jsonField(path: string, key: string, accept: (value: string, object: Record<string, unknown>) => boolean): EndpointCheck {
  return {
    path,
    check(answer) {
      if (answer.status !== 200) return null;
      const object = jsonObject(answer.body);
      const value = stringField(object, key);
      return object && value !== null && accept(value, object) ? `GET ${path}: ${key} ${JSON.stringify(value)}` : null;
    },
  };
}

function titleIs(expected: string): (page: LandingPage) => string | null {
  return (page) => (page.title === expected ? `title ${JSON.stringify(page.title)}` : null);
}

export const fingerprints: readonly Fingerprint[] = [
  {
    presetId: 'jellyfin',
    recognisedBy: 'GET /System/Info/Public answers JSON with ProductName "Jellyfin Server".',
    endpoints: [jsonField('/System/Info/Public', 'ProductName', (value) => value === 'Jellyfin Server')],
  },
  {
    presetId: 'emby',
    recognisedBy: 'GET /emby/System/Info/Public answers JSON with ServerName, Version and Id, and no Jellyfin ProductName.',
    endpoints: [
      jsonField('/emby/System/Info/Public', 'Version', (_value, object) => typeof object.ServerName === 'string' && typeof object.Id === 'string' && !/jellyfin/i.test(stringField(object, 'ProductName') ?? '')),
    ],
  },
  {
    presetId: 'plex',
    recognisedBy: 'GET /identity answers a MediaContainer with a machineIdentifier (XML, or JSON when asked).',
    endpoints: [
      {
        path: '/identity',
        check(answer) {
          if (answer.status !== 200) return null;
          const xml = /<MediaContainer\b[^>]*\bmachineIdentifier="/.test(answer.body);
          const json = typeof (jsonObject(answer.body)?.MediaContainer as Record<string, unknown> | undefined)?.machineIdentifier === 'string';
          return xml || json ? 'GET /identity: a MediaContainer with a machineIdentifier' : null;
        },
      },
    ],
  },
  {
    presetId: 'immich',
    recognisedBy: 'GET /api/server/ping answers {"res":"pong"}.',
    endpoints: [jsonField('/api/server/ping', 'res', (value) => value === 'pong')],
  },
  {
    presetId: 'home-assistant',
    recognisedBy: 'The landing page title is "Home Assistant".',
    landing: titleIs('Home Assistant'),
  },
  {
    presetId: 'nextcloud',
    recognisedBy: 'GET /status.php answers JSON with installed, version and productname.',
    endpoints: [jsonField('/status.php', 'productname', (_value, object) => 'installed' in object && typeof object.version === 'string')],
  },
  {
    presetId: 'paperless-ngx',
    recognisedBy: 'The landing (login) page carries the meta author "Paperless-ngx project and contributors", or a title naming Paperless-ngx.',
    landing: (page) =>
      /<meta\s+name="author"\s+content="Paperless-ngx project and contributors"/i.test(page.body)
        ? 'page meta author "Paperless-ngx project and contributors"'
        : page.title && /paperless-ngx/i.test(page.title)
          ? `title ${JSON.stringify(page.title)}`
          : null,
  },
  {
    presetId: 'syncthing',
    recognisedBy: 'GET /rest/noauth/health answers {"status":"OK"}.',
    endpoints: [jsonField('/rest/noauth/health', 'status', (value) => value === 'OK')],
  },
  {
    presetId: 'grafana',
    recognisedBy: 'GET /api/health answers JSON with database and version (or commit).',
    endpoints: [jsonField('/api/health', 'database', (_value, object) => typeof object.version === 'string' || typeof object.commit === 'string')],
  },
  {
    presetId: 'uptime-kuma',
    recognisedBy: 'The landing page (/ redirects to /dashboard) has the title "Uptime Kuma".',
    landing: titleIs('Uptime Kuma'),
  },
  {
    presetId: 'portainer',
    recognisedBy: 'GET /api/system/status (or the older /api/status) answers JSON with a Version.',
    endpoints: [jsonField('/api/system/status', 'Version', () => true), jsonField('/api/status', 'Version', () => true)],
  },
  {
    presetId: 'proxmox-ve',
    recognisedBy: 'The landing page title ends with "- Proxmox Virtual Environment".',
    landing: (page) => (page.title && / - Proxmox Virtual Environment$/.test(page.title) ? `title ${JSON.stringify(page.title)}` : null),
  },
  {
    presetId: 'synology-dsm',
    recognisedBy: 'The landing page title starts with "Synology DiskStation", or the page sets up SYNO.SDS.Session.',
    landing: (page) =>
      page.title?.startsWith('Synology DiskStation') ? `title ${JSON.stringify(page.title)}` : page.body.includes('SYNO.SDS.Session') ? 'page script sets up SYNO.SDS.Session' : null,
  },
  {
    presetId: 'truenas',
    recognisedBy: 'The landing page is the TrueNAS web UI shell: an <ix-root> element with the TrueNAS logo.',
    landing: (page) => (/<ix-root[\s>]/.test(page.body) && /TrueNAS/.test(page.body) ? 'page is the TrueNAS web UI (<ix-root> with the TrueNAS logo)' : null),
  },
  {
    presetId: 'pi-hole',
    recognisedBy: 'The page under /admin/ has a title starting with "Pi-hole".',
    landing: (page) => (page.title?.startsWith('Pi-hole') ? `title ${JSON.stringify(page.title)}` : null),
    endpoints: [
      {
        path: '/admin/',
        check: (answer) => (answer.status < 400 && answer.title?.startsWith('Pi-hole') ? `GET /admin/: title ${JSON.stringify(answer.title)}` : null),
      },
    ],
  },
  {
    presetId: 'unifi-network',
    recognisedBy: 'GET /status, the one page it serves without a login, answers JSON whose meta has rc "ok" and a server_version.',
    endpoints: [
      {
        path: '/status',
        check(answer) {
          const meta = jsonObject(answer.body)?.meta as Record<string, unknown> | undefined;
          return answer.status === 200 && meta?.rc === 'ok' && typeof meta.server_version === 'string'
            ? `GET /status: meta.server_version ${JSON.stringify(meta.server_version)}`
            : null;
        },
      },
    ],
  },
  {
    presetId: 'adguard-home',
    recognisedBy: 'The landing page title is "AdGuard Home", or / redirects to the relative "login.html" whose title is "Login".',
    landing: (page) =>
      page.title === 'AdGuard Home'
        ? 'title "AdGuard Home"'
        : page.redirects.includes('login.html') && page.title === 'Login'
          ? '/ redirects to "login.html", titled "Login"'
          : null,
  },
  {
    presetId: 'vaultwarden',
    recognisedBy: 'GET /api/config answers JSON whose server.name is "Vaultwarden".',
    endpoints: [
      {
        path: '/api/config',
        check(answer) {
          const server = jsonObject(answer.body)?.server as Record<string, unknown> | undefined;
          return answer.status === 200 && server?.name === 'Vaultwarden' ? 'GET /api/config: server.name "Vaultwarden"' : null;
        },
      },
    ],
  },
  {
    presetId: 'forgejo',
    recognisedBy: 'GET /api/v1/version names a "+gitea-" compatibility version, or GET /api/forgejo/v1/version answers a version.',
    endpoints: [jsonField('/api/v1/version', 'version', (value) => /\+(?:\d+-)?gitea-/.test(value)), jsonField('/api/forgejo/v1/version', 'version', () => true)],
  },
  {
    presetId: 'gitea',
    recognisedBy: 'GET /api/v1/version answers JSON {"version": …} (checked after Forgejo, which answers it too).',
    endpoints: [jsonField('/api/v1/version', 'version', (value) => !/gitea-/.test(value))],
  },
  {
    presetId: 'mattermost',
    recognisedBy: 'GET /api/v4/system/ping answers JSON with status "OK".',
    endpoints: [jsonField('/api/v4/system/ping', 'status', (value) => value === 'OK')],
  },
];
