// A stand-in for the Electron preload's `window.gatehouse`, backed by FakeGatehouse with sample
// data, so the built pages can be looked at (and screenshotted) in a plain browser with no core
// running. Bundled and injected by dev/screenshots.mjs; `?scenario=` picks the data:
// "first-run" (not onboarded, no routes), "empty" (onboarded, no routes, nothing on the LAN),
// "mdns-off" and "mdns-failed" (the busy home lab with multicast DNS turned off, or failing),
// "crowdsec-down" (the busy home lab with CrowdSec unreachable),
// otherwise a busy home lab.
// First: this bundle has its own copy of zod, built under the page's CSP (see zod-setup.ts).
import '../zod-setup.js';
import { ApiError } from '../../shared/api.js';
import { defaultRouteAccess } from '../../shared/access.js';
import type { GatehouseBridge } from '../../src-main/electron/bridge.js';
import { sampleServices } from './fake-discovery.js';
import { FakeGatehouse, sampleLogEntry, sampleRoute, sampleUpstreamHealth } from './fake-gatehouse.js';
import { presetHealthCheck } from '../route-form/upstream-values.js';
import type { UpstreamHealth } from '../../shared/status.js';
import { KNOWN_ACME_DIRECTORIES } from '../../shared/acme.js';
import { rateLimitProblem } from './fake-acme.js';
import { sampleStream } from './fake-streams.js';
import { sampleCaptures } from './fake-inspector.js';
import { DNS_PROBE_HEX } from '../../shared/streams.js';

const scenario = new URLSearchParams(location.search).get('scenario') ?? 'busy';

const routes = [
  sampleRoute({
    id: 'route-a',
    title: 'Jellyfin',
    names: ['jellyfin.home.arpa', 'jellyfin.local'],
    upstream: 'http://10.33.0.4:8096',
    tls: { mode: 'local', certificateId: null, acme: null, redirectHttp: true, hsts: false, proxyProtocol: 'off' },
    publishOnLan: true,
  }),
  sampleRoute({
    id: 'route-b',
    title: 'Proxmox',
    names: ['pve.home.arpa', 'pve.local'],
    upstream: 'https://10.33.0.9:8006',
    insecureUpstreamTls: true,
    publishOnLan: true,
    tls: { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' },
  }),
  sampleRoute({ id: 'route-c', names: ['grafana.home.arpa'], upstream: 'http://10.33.0.12:3000', enabled: false }),
  // Several servers: the first down (its check fails), the second serving, the third drained for
  // maintenance, a backup standing by: every state the dashboard can show for a server.
  sampleRoute({
    id: 'route-d',
    title: 'Home Assistant',
    names: ['ha.home.arpa'],
    upstreams: [
      { url: 'http://10.33.0.21:8123', weight: 1, backup: false, drained: false },
      { url: 'http://10.33.0.22:8123', weight: 1, backup: false, drained: false },
      { url: 'http://10.33.0.23:8123', weight: 1, backup: false, drained: true },
      { url: 'http://10.33.0.24:8123', weight: 1, backup: true, drained: false },
    ],
    healthCheck: presetHealthCheck({ path: '/manifest.json', statusFrom: 200, statusTo: 299, bodyContains: null }),
  }),
];

/**
 * Streams: SSH to the NAS listening with traffic (and a fallback server), FTP on port 21 that
 * failed (below 1024), DNS over UDP with its probe, a game server range that is turned off.
 */
function addStreams() {
  const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
  fake.streams.seed(
    sampleStream({ id: 'stream-ssh', title: 'NAS SSH', preset: 'ssh', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22', '10.33.0.6:22'] }),
    {
      open: 2,
      total: 148,
      refused: 37,
      bytesIn: 18_400_000,
      bytesOut: 1_240_000_000,
      health: 'up',
      upstreams: [
        { address: '10.33.0.5:22', state: 'up', since: ago(7200), lastCheck: { at: ago(4), passed: true, check: 'TCP connect', error: null, latencyMs: 1 }, active: true },
        { address: '10.33.0.6:22', state: 'down', since: ago(600), lastCheck: { at: ago(4), passed: false, check: 'TCP connect', error: 'connection refused', latencyMs: 0 }, active: false },
      ],
    },
  );
  fake.streams.seed(
    sampleStream({
      id: 'stream-ftp',
      title: 'NAS FTP',
      preset: 'ftp',
      protocol: 'ftp',
      listenPort: 21,
      upstreams: ['10.33.0.5:21'],
      ftp: { passivePortFrom: 30000, passivePortTo: 30049, tls: 'explicit', certificateRouteId: 'route-a', publicAddress: null, allowActive: true },
    }),
  );
  fake.streams.seed(
    sampleStream({
      id: 'stream-dns',
      title: 'Pi-hole DNS',
      preset: 'dns',
      protocol: 'udp',
      listenPort: 1053,
      upstreams: ['10.33.0.2:53'],
      healthCheck: { enabled: true, intervalSeconds: 10, timeoutMs: 3000, udpProbeHex: DNS_PROBE_HEX },
    }),
    {
      open: 14,
      total: 90_211,
      refused: 0,
      bytesIn: 6_300_000,
      bytesOut: 21_800_000,
      health: 'up',
      upstreams: [{ address: '10.33.0.2:53', state: 'up', since: ago(86_400), lastCheck: { at: ago(9), passed: true, check: 'UDP probe', error: null, latencyMs: 3 }, active: true }],
    },
  );
  fake.streams.seed(
    sampleStream({ id: 'stream-game', title: 'Game servers', preset: 'custom', protocol: 'udp', listenPort: 27015, listenPortEnd: 27020, upstreams: ['10.33.0.8:27015'], enabled: false }),
  );
}

function logEntries() {
  const entries = [];
  for (let i = 0; i < 30; i += 1) {
    const failed = i % 7 === 3;
    entries.push(
      sampleLogEntry({
        time: new Date(Date.UTC(2026, 10, 21, 10, 0, i * 3)).toISOString(),
        routeId: failed ? 'route-b' : 'route-a',
        host: failed ? 'pve.home.arpa' : 'jellyfin.home.arpa',
        path: failed ? '/api2/json/cluster/resources' : `/Items/${1000 + i}/Images/Primary?fillHeight=300`,
        status: failed ? 502 : i % 5 === 0 ? 304 : 200,
        durationMs: failed ? 3 : 8 + i,
        upstream: failed ? '10.33.0.9:8006' : '10.33.0.4:8096',
        error: failed ? 'upstream_refused' : null,
        detail: failed ? 'Proxmox at 10.33.0.9:8006 refused the connection. Is it running, and listening on that port?' : null,
      }),
    );
  }
  entries.push(sampleLogEntry({ routeId: null, host: 'unknown.home.arpa', status: 404, upstream: null, time: new Date(Date.UTC(2026, 10, 21, 10, 2)).toISOString() }));
  return entries;
}

/** Requests from the day before, only in the log files (before a restart): what "Search older entries" finds. */
function olderLogEntries() {
  const entries = [];
  for (let i = 0; i < 600; i += 1) {
    const proxmox = i % 2 === 0;
    const failed = proxmox && i % 4 === 0;
    entries.push(
      sampleLogEntry({
        time: new Date(Date.UTC(2026, 10, 20, 18, 0, 0) + i * 61_000).toISOString(),
        routeId: proxmox ? 'route-b' : 'route-a',
        host: proxmox ? 'pve.home.arpa' : 'jellyfin.home.arpa',
        client: i % 5 === 0 ? '192.168.1.44' : '192.168.1.30',
        path: proxmox ? `/api2/json/nodes/pve/qemu/${100 + (i % 7)}/status/current` : `/Videos/${2000 + i}/stream.mp4`,
        status: failed ? (i % 9 === 0 ? 504 : 502) : 200,
        durationMs: failed ? 30_000 : 15 + (i % 40),
        upstream: proxmox ? '10.33.0.9:8006' : '10.33.0.4:8096',
        error: failed ? (i % 9 === 0 ? 'upstream_timeout' : 'upstream_refused') : null,
        detail: failed ? (i % 9 === 0 ? 'Proxmox at 10.33.0.9:8006 did not answer within 30 seconds.' : 'Proxmox at 10.33.0.9:8006 refused the connection. Is it running, and listening on that port?') : null,
      }),
    );
  }
  return entries;
}

const fake =
  scenario === 'first-run'
    ? new FakeGatehouse({ busyPorts: [80, 443] })
    : new FakeGatehouse({
        routes: scenario === 'empty' ? [] : routes,
        log: scenario === 'empty' ? [] : logEntries(),
        settings: { app: { onboarded: true, startAtLogin: false }, lan: { mdns: scenario !== 'mdns-off' } },
        services: scenario === 'empty' ? [] : sampleServices(new Date()),
      });
if (scenario !== 'empty' && scenario !== 'first-run') fake.logSearch.older = olderLogEntries();
// A redirect route (the old blog's name sends visitors to the new one), on the dashboard and in the form.
if (scenario === 'redirect') {
  fake.routes.unshift(sampleRoute({ id: 'route-r', title: 'Old blog', names: ['blog.example.net', 'www.blog.example.net'], upstreams: [], redirect: { to: 'https://journal.example.net', status: 301, keepPath: true }, access: { ...defaultRouteAccess(), exposure: 'anyone' } }));
}
// First run too: streams from an imported settings file are in the port check.
if (scenario !== 'empty') addStreams();
// The request inspector is on for Jellyfin, with what it caught (the route page's Inspector section).
if (scenario === 'busy') fake.inspector.seed('route-a', sampleCaptures('jellyfin.home.arpa'));
// A week of nightly backups in a folder (Backup page).
if (scenario !== 'empty' && scenario !== 'first-run') fake.backups.seed();
// Another device already answers for pve.local: the Proxmox route shows the conflict.
fake.discovery.takenNames.add('pve.local');
// The route doctor still checking (its running state in screenshots).
if (scenario === 'doctor-slow') fake.doctor.delayMs = 60_000;
if (scenario === 'doctor-error') fake.doctor.failNext = new ApiError('conflict', 'Gatehouse is shutting down; run the doctor after it starts again.', { fix: 'Wait until the dashboard says the proxy is running, then check again.' });
if (scenario === 'mdns-failed') {
  fake.discovery.failure = {
    code: 'mdns_socket',
    message: 'Gatehouse could not listen for multicast DNS on UDP port 5353: the address is in use.',
    fix: 'Another mDNS responder holds the port without sharing it. Stop it, or turn off multicast DNS in Settings.',
  };
}
if (scenario !== 'first-run' && scenario !== 'empty') {
  const refused = { code: 'refused', message: '10.33.0.9:8006 refused the connection: is Proxmox running?' };
  const one = (url: string, address: string, state: 'up' | 'down', problem: typeof refused | null) => ({
    url, address, state, since: null, lastCheck: null, coolingUntil: null, passiveFailures: 0, problem,
    drained: false, backup: false, weight: 1, available: state === 'up', served: 0, inFlight: 0,
  });
  fake.health = [
    { routeId: 'route-a', upstream: '10.33.0.4:8096', state: 'up', since: null, checkedAt: null, problem: null, failedOver: false, upstreams: [one('http://10.33.0.4:8096', '10.33.0.4:8096', 'up', null)] },
    {
      routeId: 'route-b',
      upstream: '10.33.0.9:8006',
      state: 'down',
      since: null,
      checkedAt: null,
      problem: refused,
      failedOver: false,
      upstreams: [one('https://10.33.0.9:8006', '10.33.0.9:8006', 'down', refused)],
    },
    haHealth(),
  ];
  // A redirect route is always up: nothing behind it can be down.
  if (scenario === 'redirect') fake.health.unshift({ routeId: 'route-r', upstream: '', state: 'up', since: new Date(Date.now() - 86_400_000).toISOString(), checkedAt: null, problem: null, failedOver: false, upstreams: [] });
}

if (scenario === 'busy' || scenario === 'crowdsec-down') {
  // The Access page: a short list, a long one, users, a provider, CrowdSec and a scanner ban.
  const family = fake.access.addList({
    name: 'Family',
    entries: [
      { action: 'allow', range: '198.51.100.23', note: "Mum's house" },
      { action: 'deny', range: '203.0.113.0/24', note: 'old VPS range' },
      { action: 'allow', range: '2001:db8:1234::/48', note: 'Office' },
    ],
  });
  fake.access.addList({
    name: 'Blocklist',
    entries: Array.from({ length: 1000 }, (_, i) => ({ action: 'deny' as const, range: `198.18.${Math.floor(i / 250)}.${i % 250}`, note: '' })),
  });
  fake.access.addUser('anna');
  fake.access.addUser('ben');
  fake.access.addProvider({ name: 'Authelia', kind: 'authelia', url: 'http://10.33.0.5:9091/api/authz/forward-auth', copyHeaders: ['Remote-User', 'Remote-Email'], insecureTls: false });
  fake.access.settings.crowdsec.enabled = true;
  fake.access.apiKeySet = true;
  fake.access.crowdsecState =
    scenario === 'crowdsec-down'
      ? { state: 'down', problem: 'CrowdSec at http://127.0.0.1:8080 refused the connection. Is crowdsec running (systemctl status crowdsec)?', lastPullAt: '2026-11-21T10:04:50.000Z', bans: 1432 }
      : { state: 'ok', problem: null, lastPullAt: '2026-11-21T10:04:50.000Z', bans: 1432 };
  fake.access.scannerBans = [{ address: '185.220.101.4', source: 'scanner', reason: 'asked for /.env and /.git/config', until: '2026-11-21T11:04:00.000Z' }];
  fake.routes[0]!.access = { ...fake.routes[0]!.access, exposure: 'anyone', lists: [family.id], signIn: { method: 'basic', users: 'all' } };
  fake.log.push(
    sampleLogEntry({ client: '203.0.113.9', status: 403, upstream: null, error: 'access_denied', detail: 'Refused by an access list.', rule: 'list Family: deny 203.0.113.0/24', time: new Date(Date.UTC(2026, 10, 21, 10, 3)).toISOString() }),
    sampleLogEntry({ client: '198.51.100.23', user: 'anna', time: new Date(Date.UTC(2026, 10, 21, 10, 4)).toISOString() }),
  );

  // One imported certificate, one certificate still being issued, for the Certificates page.
  fake.certificates.import({
    label: 'Company wildcard',
    certificatePem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----',
    privateKeyPem: '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----',
  });
  fake.certificates.pending.add('route-b');
  addAcme();
}

/**
 * Let's Encrypt on the Certificates page and in the route form: two accounts (staging with new
 * terms to accept), two DNS providers, Nextcloud over DNS held back by a rate limit, Photos over
 * HTTP renewing in the window Let's Encrypt suggested, and Vaultwarden whose CAA record forbids
 * Let's Encrypt (its setup check fails on CAA and warns that the name is LAN-only).
 */
function addAcme() {
  const acme = fake.certificates.acme;
  const [production, staging] = KNOWN_ACME_DIRECTORIES;
  const terms = acme.directory(production.url).termsOfService;
  const account = acme.addAccount({ label: "Let's Encrypt", directoryUrl: production.url, email: 'me@example.net', termsAccepted: terms, eab: null });
  const trial = acme.addAccount({ label: 'Trying things out', directoryUrl: staging.url, email: '', termsAccepted: terms, eab: null });
  acme.termsChanged.set(trial.id, 'https://letsencrypt.org/documents/LE-SA-v1.6-August-2026.pdf');
  const cloudflare = acme.addProvider({ kind: 'cloudflare', label: 'Cloudflare example.net', apiUrl: 'https://api.cloudflare.com/client/v4', zoneId: null, propagationTimeoutMs: 120_000, credentials: 'token' });
  const bind = acme.addProvider({ kind: 'rfc2136', label: 'BIND at home', server: '10.33.0.2', zone: 'example.org', keyName: 'gatehouse-acme', algorithm: 'hmac-sha256', propagationTimeoutMs: 120_000, credentials: 'c2VjcmV0' });
  const now = Date.now();
  const day = 86_400_000;
  const viaDns = { accountId: account.id, challenge: 'dns-01' as const, dnsProviderId: cloudflare.id, profile: null, keyType: 'ecdsa-p256' as const };
  fake.routes.push(
    sampleRoute({ id: 'route-e', title: 'Nextcloud', names: ['cloud.example.net'], upstream: 'http://10.33.0.30:80', tls: { mode: 'acme', certificateId: null, acme: viaDns, redirectHttp: true, hsts: false, proxyProtocol: 'off' } }),
    sampleRoute({ id: 'route-f', title: 'Photos', names: ['photos.example.net'], upstream: 'http://10.33.0.31:2283', tls: { mode: 'acme', certificateId: null, acme: { ...viaDns, challenge: 'http-01', dnsProviderId: null }, redirectHttp: true, hsts: true, proxyProtocol: 'off' } }),
    sampleRoute({ id: 'route-g', title: 'Vaultwarden', names: ['vault.example.org'], upstream: 'http://10.33.0.32:80', tls: { mode: 'acme', certificateId: null, acme: { ...viaDns, dnsProviderId: bind.id }, redirectHttp: true, hsts: false, proxyProtocol: 'off' } }),
  );
  acme.publicNames.add('photos.example.net');
  acme.caa.set('example.org', ['sectigo.com']);
  acme.issued.set('route-e', { notBefore: new Date(now - 62 * day).toISOString(), notAfter: new Date(now + 28 * day).toISOString() });
  acme.issued.set('route-f', { notBefore: new Date(now - 20 * day).toISOString(), notAfter: new Date(now + 70 * day).toISOString() });
  acme.lastAttempts.set('route-f', { at: new Date(now - 20 * day).toISOString(), ok: true, problem: null });
  acme.lastAttempts.set('route-e', { at: new Date(now - 3_600_000).toISOString(), ok: false, problem: rateLimitProblem('cloud.example.net', new Date(now + 2 * day + 5 * 3_600_000)) });
  acme.failures.set('route-e', 2);
  acme.preflight(['cloud.example.net'], viaDns);
  fake.certificates.changed();
}

/** Home Assistant's four servers, as the health report describes them. */
function haHealth() {
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const passed = (latencyMs: number) => ({ at: minutesAgo(0), passed: true, check: 'GET /manifest.json', status: 200, bodyExcerpt: '{"name":"Home Assistant","short_name":"Assistant","start_url":"/?homescreen=1"', error: null, latencyMs });
  const server = (n: number, fields: Partial<UpstreamHealth>): UpstreamHealth =>
    sampleUpstreamHealth(`http://10.33.0.2${n}:8123`, { since: minutesAgo(90), lastCheck: passed(9 + n), ...fields });
  const failed = 'answered 503, expected 200–299';
  return {
    routeId: 'route-d',
    upstream: '10.33.0.22:8123',
    state: 'up' as const,
    since: minutesAgo(90),
    checkedAt: minutesAgo(0),
    problem: null,
    failedOver: true,
    upstreams: [
      server(1, {
        state: 'down',
        since: minutesAgo(4),
        available: false,
        served: 5120,
        problem: { code: 'check_failed', message: `10.33.0.21:8123 ${failed} to GET /manifest.json` },
        lastCheck: { at: minutesAgo(0), passed: false, check: 'GET /manifest.json', status: 503, bodyExcerpt: '<html><head><title>503 Service Unavailable</title></head><body>Home Assistant is starting…', error: failed, latencyMs: 4 },
      }),
      server(2, { served: 1834, inFlight: 3 }),
      server(3, { drained: true, available: false, served: 2210, inFlight: 1 }),
      server(4, { backup: true }),
    ],
  };
}

const bridge: GatehouseBridge = {
  async call(member, input) {
    try {
      return { ok: true, value: structuredClone(await fake.call(member, input)) };
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
      return { ok: false, ...failure.toBody() };
    }
  },
  subscribe: (listener) => fake.subscribe((event) => listener(structuredClone(event))),
};

window.gatehouse = bridge;
