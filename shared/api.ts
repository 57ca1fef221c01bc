// The one API contract between Gatehouse's core and every user interface. Each member is declared
// once here with its input schema and its HTTP mapping; the gateway implements every member, the
// Electron IPC and the headless HTTP transport both carry every member, and the renderer calls
// them through `createApiClient` over whichever transport it was given. A member added here without
// a handler is a compile error in both transports.
import { z } from 'zod';
import {
  CertificateIdSchema,
  HostnameSchema,
  IpAddressSchema,
  PortSchema,
  RouteIdSchema,
  RouteInputSchema,
  RouteUpdateSchema,
  SettingsPatchSchema,
  type GeneralSettings,
  type Route,
} from './model.js';
import { UpstreamSchema } from './upstreams.js';
import {
  BackupPassphraseSchema,
  BackupScheduleSchema,
  BackupSourceSchema,
  HistoryRangeSchema,
  INSPECTOR_MAX_BODY_BYTES,
  INSPECTOR_MAX_KEEP,
  LogSearchInputSchema,
  NpmFolderSchema,
  RestoreInputSchema,
  type BackupDownload,
  type BackupsOverview,
  type DoctorReport,
  type HistorySummary,
  type InspectorView,
  type LogSearchResult,
  type NpmImportPreview,
  type NpmImportResult,
  type ReplayResult,
  type RestorePreview,
  type RestoreResult,
  type RouteHistory,
} from './insight.js';
import { StreamIdSchema, StreamInputSchema, StreamUpdateSchema, type Stream, type StreamView } from './streams.js';
import {
  AcmeAccountIdSchema,
  AcmeAccountInputSchema,
  AcmeAccountUpdateSchema,
  AcmeDirectoryUrlSchema,
  DirectoryCaPemSchema,
  DnsProviderIdSchema,
  DnsProviderInputSchema,
  DnsProviderUpdateSchema,
  PreflightInputSchema,
  type AcmeAccountView,
  type AcmeDirectoryInfo,
  type DnsProviderView,
  type PreflightCheck,
  type PreflightReport,
} from './acme.js';
import {
  AccessListIdSchema,
  AccessListInputSchema,
  AccessRangeSchema,
  CrowdsecSettingsSchema,
  ScannerBanSettingsSchema,
  SignInProviderIdSchema,
  SignInProviderInputSchema,
  UserNameSchema,
  type AccessList,
  type AccessOverview,
  type AccessUser,
  type AccessVerdict,
  type CallContext,
  type SignInProvider,
} from './access.js';
import type {
  AccessLogEntry,
  AppInfo,
  CaDownload,
  CertificatesOverview,
  CustomCertificate,
  AppPreset,
  DiscoveryOverview,
  HostProbe,
  RouteCertificate,
  TrustPlan,
  TrustResult,
  ImportPreview,
  PortCheck,
  Problem,
  ProxyStatus,
  FailoverEvent,
  RouteHealth,
  SettingsExport,
  StatsSnapshot,
} from './status.js';

const NoInput = z.object({}).strict();
/** An export file as read from disk: its shape is checked (and migrated) by the gateway, field by field. */
const ImportInput = z.object({ document: z.unknown().refine((value) => value !== undefined, 'choose a settings file to import') }).strict();

/** A domain the local CA may issue for: a host name without a wildcard ("home.arpa", "home.example", "local"). */
const CaDomainSchema = HostnameSchema.refine((name) => !name.includes('*'), 'a CA domain covers every name below it already; leave out the "*."');

const pem = (what: string, max: number) =>
  z
    .string({ error: `paste the ${what} (PEM, the text starting with -----BEGIN)` })
    .max(max, `the ${what} is larger than ${max / 1024} KiB; is it the right file?`);

/**
 * The user's "yes" to changing this machine's trust, and which CA they saw the commands for: if the
 * CA was replaced since (a domain change), the commands differ from those shown and nothing runs.
 */
const TrustConsent = z
  .object({
    consent: z.literal(true, { error: 'this changes what this machine trusts; send consent: true after the person agreed' }),
    caFingerprintSha256: z
      .string({ error: 'send the fingerprint of the CA whose commands the person saw (getCertificates: ca.fingerprintSha256)' })
      .regex(/^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/, 'a SHA-256 fingerprint is 32 hex bytes separated by colons, as getCertificates gives it'),
  })
  .strict();

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface EndpointSpec {
  /** HTTP verb on the headless admin API. GET and DELETE take their input from the path and query. */
  method: HttpMethod;
  /** Path on the admin API; `:name` segments are taken from the input object. */
  path: string;
  /** Validates the input. The HTTP transport builds the object from path parameters, query and body. */
  input: z.ZodType;
}

/** Every operation of the API. The key is the member name (and the Electron IPC channel). */
export const endpoints = {
  /** All routes, in the order the user created them. */
  listRoutes: { method: 'GET', path: '/api/routes', input: NoInput },
  getRoute: { method: 'GET', path: '/api/routes/:id', input: z.object({ id: RouteIdSchema }).strict() },
  /** Creates a route; applies at once to the running proxy. */
  addRoute: { method: 'POST', path: '/api/routes', input: RouteInputSchema },
  /** Replaces a route's fields (not its id); in-flight requests finish on the old version. */
  updateRoute: { method: 'PUT', path: '/api/routes/:id', input: RouteUpdateSchema },
  /**
   * Drains one of a route's upstreams (no new requests; those under way finish) or puts it back.
   * Saved with the route, so a drain for maintenance survives a restart.
   */
  setUpstreamDrained: {
    method: 'POST',
    path: '/api/routes/:id/upstreams/drain',
    input: z.object({ id: RouteIdSchema, url: UpstreamSchema, drained: z.boolean({ error: 'say drained: true to drain, false to put it back' }) }).strict(),
  },
  removeRoute: { method: 'DELETE', path: '/api/routes/:id', input: z.object({ id: RouteIdSchema }).strict() },

  getStatus: { method: 'GET', path: '/api/proxy', input: NoInput },
  startProxy: { method: 'POST', path: '/api/proxy/start', input: NoInput },
  stopProxy: { method: 'POST', path: '/api/proxy/stop', input: NoInput },

  /**
   * Whether each port could be bound now, with the exact fix when not (first run, Settings).
   * `bindAddress` defaults to the saved one; `httpsPort` is checked when given.
   */
  checkPorts: {
    method: 'POST',
    path: '/api/proxy/check-ports',
    input: z
      .object({
        httpPort: PortSchema,
        httpsPort: PortSchema.optional(),
        bindAddress: IpAddressSchema.optional(),
        /** Also check every enabled stream's ports (and FTP passive ranges) as saved. Default: true. */
        streams: z.boolean().default(true),
      })
      .strict(),
  },

  /** Every stream (TCP, UDP, FTP) with its state, counters and upstream health, in settings order. */
  listStreams: { method: 'GET', path: '/api/streams', input: NoInput },
  getStream: { method: 'GET', path: '/api/streams/:id', input: z.object({ id: StreamIdSchema }).strict() },
  /** Adds a stream; while the proxy runs it starts listening at once (nothing else restarts). */
  addStream: { method: 'POST', path: '/api/streams', input: StreamInputSchema },
  /** Replaces a stream; only its own listeners are rebound when its ports change. */
  updateStream: { method: 'PUT', path: '/api/streams/:id', input: StreamUpdateSchema },
  /** Removes a stream: its listeners close, its open connections are cut. */
  removeStream: { method: 'DELETE', path: '/api/streams/:id', input: z.object({ id: StreamIdSchema }).strict() },

  /**
   * Each route's health (up while any upstream can serve it) and each of its upstreams': state,
   * since when, the last check's result, cool-down, drain, requests served.
   */
  getHealth: { method: 'GET', path: '/api/health', input: NoInput },

  /** Per-route counters: requests, errors, bytes, latency percentiles. */
  getStats: { method: 'GET', path: '/api/stats', input: NoInput },
  /** The most recent access-log entries, newest last. */
  recentLog: {
    method: 'GET',
    path: '/api/log',
    input: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict(),
  },

  /**
   * Searches the access log on disk (access.log and its rotated files), newest first: by route,
   * client, status, path, host and time. Entries from before a restart are found too.
   */
  searchLog: { method: 'GET', path: '/api/log/search', input: LogSearchInputSchema },

  /**
   * One route's history over 1 h, 24 h or 30 d: requests, errors by class, bytes, latency
   * percentiles, upgraded connections, and up/down time; for the route and each upstream.
   */
  getHistory: { method: 'GET', path: '/api/history/routes/:routeId', input: z.object({ routeId: RouteIdSchema, range: HistoryRangeSchema.default('1h') }).strict() },
  /** Every route's requests and errors over the range, for the dashboard's sparklines. */
  getHistorySummary: { method: 'GET', path: '/api/history', input: z.object({ range: HistoryRangeSchema.default('1h') }).strict() },

  /**
   * Checks, in order, what a route needs to work and says what is wrong in plain words: its names
   * resolve (system resolver, mDNS, public DNS) to this machine, the port answers on the LAN
   * address, the certificate is valid, trusted and not expiring, the upstream answers and is the
   * expected app, and whether `visitor` (default: the caller's address) would be let in.
   */
  runDoctor: {
    method: 'POST',
    path: '/api/routes/:routeId/doctor',
    input: z.object({ routeId: RouteIdSchema, visitor: IpAddressSchema.optional() }).strict(),
  },

  /** The request inspector of a route: whether it is on, and its captures (memory only), newest first. */
  getInspector: { method: 'GET', path: '/api/inspector/:routeId', input: z.object({ routeId: RouteIdSchema }).strict() },
  /** Turns a route's inspector on or off (saved); off drops its captures. */
  setInspector: {
    method: 'PUT',
    path: '/api/inspector/:routeId',
    input: z
      .object({
        routeId: RouteIdSchema,
        enabled: z.boolean({ error: 'say enabled: true to capture this route\'s requests, false to stop' }),
        keep: z.number().int().min(1).max(INSPECTOR_MAX_KEEP, `keep at most ${INSPECTOR_MAX_KEEP} requests`).optional(),
        bodyBytes: z.number().int().min(0).max(INSPECTOR_MAX_BODY_BYTES, `keep at most ${INSPECTOR_MAX_BODY_BYTES} body bytes`).optional(),
      })
      .strict(),
  },
  /** Forgets a route's captures (the inspector stays as it is). */
  clearInspector: { method: 'DELETE', path: '/api/inspector/:routeId/captures', input: z.object({ routeId: RouteIdSchema }).strict() },
  /** Sends a captured request again, through the route, and returns what came back. */
  replayRequest: {
    method: 'POST',
    path: '/api/inspector/:routeId/replay',
    input: z.object({ routeId: RouteIdSchema, captureId: z.string({ error: 'choose a captured request' }).min(1).max(64) }).strict(),
  },

  /** The backup schedule, the last scheduled run and the backups in the folder. */
  getBackups: { method: 'GET', path: '/api/backups', input: NoInput },
  /** Changes the schedule; `passphrase` sets the one scheduled backups are encrypted with (stored encrypted, never returned). */
  updateBackupSchedule: {
    method: 'PATCH',
    path: '/api/backups/schedule',
    input: BackupScheduleSchema.partial().extend({ passphrase: BackupPassphraseSchema.optional() }).strict(),
  },
  /**
   * One encrypted file (scrypt + AES-256-GCM) with everything needed to rebuild this Gatehouse:
   * settings, routes, the local CA and its key, certificates and keys, ACME accounts, DNS credentials, users.
   */
  createBackup: { method: 'POST', path: '/api/backups', input: z.object({ passphrase: BackupPassphraseSchema }).strict() },
  /** What restoring the backup would change; changes nothing. A wrong passphrase says so. */
  previewRestore: { method: 'POST', path: '/api/backups/restore/preview', input: BackupSourceSchema },
  /** Restores the backup; everything it replaces is kept in a folder of the data directory. */
  restoreBackup: { method: 'POST', path: '/api/backups/restore', input: RestoreInputSchema },

  /** What Nginx Proxy Manager's data (its database.sqlite and /data folder, copied here) would become; changes nothing. */
  previewNpmImport: { method: 'POST', path: '/api/import/npm/preview', input: z.object({ folder: NpmFolderSchema }).strict() },
  /** Imports the chosen items of the preview (proxy hosts, redirection hosts, access lists, certificates). */
  applyNpmImport: {
    method: 'POST',
    path: '/api/import/npm',
    input: z
      .object({
        folder: NpmFolderSchema,
        keys: z.array(z.string().max(64)).min(1, 'choose at least one item to import').max(2000),
      })
      .strict(),
  },

  getSettings: { method: 'GET', path: '/api/settings', input: NoInput },
  /** Changes some settings; a port or bind-address change restarts the listeners. */
  updateSettings: { method: 'PATCH', path: '/api/settings', input: SettingsPatchSchema },
  /** Every setting and route as one file (`SettingsExport`), for a backup or another machine. */
  exportSettings: { method: 'GET', path: '/api/settings/export', input: NoInput },
  /** What importing `document` would change; changes nothing. Invalid files fail naming the field. */
  previewImport: { method: 'POST', path: '/api/settings/import/preview', input: ImportInput },
  /** Replaces every setting and route with the file's; the previous file is kept as a backup. */
  importSettings: { method: 'POST', path: '/api/settings/import', input: ImportInput },

  /**
   * The local CA (created when Gatehouse first starts), the onboarding page's address and QR code, every route's
   * certificate and every imported certificate.
   */
  getCertificates: { method: 'GET', path: '/api/certificates', input: NoInput },
  /**
   * Limits the local CA to these domains. The domains are part of the CA certificate, so this
   * creates a new CA (the old one is kept in the data directory) and re-issues every local-CA
   * route's certificate: each device that trusts the current CA must install the new one.
   */
  setCaDomains: {
    method: 'PUT',
    path: '/api/certificates/ca/domains',
    input: z
      .object({
        domains: z.array(CaDomainSchema).min(1, 'the CA needs at least one domain, such as home.arpa').max(50, 'at most 50 domains'),
        replaceCa: z.literal(true, { error: 'changing the domains creates a new CA that every device must trust again; send replaceCa: true to go ahead' }),
      })
      .strict(),
  },
  /** The CA certificate as a file: PEM, DER (.crt, for Android and Windows) or an Apple .mobileconfig profile. */
  downloadCa: {
    method: 'GET',
    path: '/api/certificates/ca/download',
    input: z.object({ format: z.enum(['pem', 'der', 'mobileconfig'], { error: 'choose pem, der or mobileconfig' }) }).strict(),
  },
  /**
   * Imports a certificate and its key (and chain) after checking that the key matches, the chain
   * builds, and the dates are valid; each failure names its field. Routes then choose it by id.
   */
  importCertificate: {
    method: 'POST',
    path: '/api/certificates',
    input: z
      .object({
        label: z.string().trim().max(80, 'a label has at most 80 characters').optional(),
        certificatePem: pem('certificate', 64 * 1024),
        privateKeyPem: pem('private key', 16 * 1024),
        /** Intermediate certificates, leaf's issuer first; may also follow the leaf in certificatePem. */
        chainPem: pem('chain', 64 * 1024).optional(),
      })
      .strict(),
  },
  /** Removes an imported certificate; refused while a route uses it. */
  removeCertificate: { method: 'DELETE', path: '/api/certificates/:id', input: z.object({ id: CertificateIdSchema }).strict() },
  /** Issues a new certificate for the route now, from the local CA or through ACME (it is otherwise renewed automatically). */
  renewCertificate: { method: 'POST', path: '/api/certificates/routes/:routeId/renew', input: z.object({ routeId: RouteIdSchema }).strict() },
  /** What "Trust on this machine" would run here (every command exactly), and what is trusted now. */
  getTrustPlan: { method: 'GET', path: '/api/certificates/trust', input: NoInput },
  /** Installs the local CA into this machine's trust stores: runs the plan's install steps. */
  trustCa: { method: 'POST', path: '/api/certificates/trust', input: TrustConsent },
  /** Removes the local CA from this machine's trust stores: runs the plan's uninstall steps. */
  untrustCa: { method: 'POST', path: '/api/certificates/untrust', input: TrustConsent },

  /** Reads an ACME directory's terms, EAB need, profiles and ARI support, before an account is made there. */
  getAcmeDirectory: { method: 'POST', path: '/api/acme/directory', input: z.object({ directoryUrl: AcmeDirectoryUrlSchema, directoryCaPem: DirectoryCaPemSchema }).strict() },
  /**
   * Registers an account at the directory (new account key, kept in the data directory with mode
   * 0600, never sent over the API). Refused until the directory's current terms are in
   * `termsAccepted`, and without EAB where the directory requires it.
   */
  addAcmeAccount: { method: 'POST', path: '/api/acme/accounts', input: AcmeAccountInputSchema },
  /** Changes the name or contact email (sent to the CA), or accepts the directory's new terms. */
  updateAcmeAccount: { method: 'PATCH', path: '/api/acme/accounts/:id', input: AcmeAccountUpdateSchema },
  /** Replaces the account key at the CA (RFC 8555 key change); the old key is kept aside until the CA took the new one. */
  rolloverAcmeKey: { method: 'POST', path: '/api/acme/accounts/:id/key', input: z.object({ id: AcmeAccountIdSchema }).strict() },
  /** Forgets an account (its key is removed); refused, naming the routes, while a route uses it. */
  removeAcmeAccount: { method: 'DELETE', path: '/api/acme/accounts/:id', input: z.object({ id: AcmeAccountIdSchema }).strict() },
  /** Adds a DNS provider for the DNS-01 challenge; its credentials are stored encrypted and never returned. */
  addDnsProvider: { method: 'POST', path: '/api/acme/dns-providers', input: DnsProviderInputSchema },
  /** Replaces a provider's settings; `credentials` left out keeps the stored ones. */
  updateDnsProvider: { method: 'PUT', path: '/api/acme/dns-providers/:id', input: DnsProviderUpdateSchema },
  /** Removes a provider and its credentials; refused, naming the routes, while a route uses it. */
  removeDnsProvider: { method: 'DELETE', path: '/api/acme/dns-providers/:id', input: z.object({ id: DnsProviderIdSchema }).strict() },
  /** Checks a provider's credentials with a harmless TXT record for `name` (created, seen, removed). */
  testDnsProvider: {
    method: 'POST',
    path: '/api/acme/dns-providers/:id/test',
    input: z.object({ id: DnsProviderIdSchema, name: HostnameSchema }).strict(),
  },
  /**
   * Checks, from this machine and asking no third party, what an order for `names` needs: public
   * DNS, split DNS, CAA, the DNS credentials, and (HTTP-01) that port 80 for the name reaches
   * Gatehouse. Finishes within a few seconds even when a DNS server does not answer.
   */
  preflightCertificate: { method: 'POST', path: '/api/acme/preflight', input: PreflightInputSchema },

  /** Services seen on the LAN over mDNS, and every name this machine publishes there. */
  getDiscovery: { method: 'GET', path: '/api/discovery', input: NoInput },
  /**
   * Tries a documented list of common home-lab ports (or `ports`) on one address with short
   * timeouts and a few connections at a time, and identifies what answers over HTTP(S). For services
   * that do not announce themselves (Jellyfin, for one). Finishes within a few seconds.
   */
  probeHost: {
    method: 'POST',
    path: '/api/discovery/probe',
    input: z
      .object({
        address: z.union([z.ipv4(), z.ipv6()], { error: "enter the device's IP address, such as 10.33.0.4" }),
        ports: z.array(PortSchema.refine((port) => port > 0, 'a port is 1 to 65535')).min(1, 'list at least one port, or leave ports out for the usual list').max(64, 'probe at most 64 ports at a time').optional(),
      })
      .strict(),
  },
  /** The apps Gatehouse recognises, with the route options each needs (for "Map it"). */
  getPresets: { method: 'GET', path: '/api/discovery/presets', input: NoInput },

  /** Version, desktop or headless, and what this shell can do. */
  getAppInfo: { method: 'GET', path: '/api/app', input: NoInput },

  /**
   * The Access page: access lists, sign-in users and providers, CrowdSec's state, the country
   * database, scanner bans, and the caller's own address as the proxy sees it.
   */
  getAccess: { method: 'GET', path: '/api/access', input: NoInput },
  /** Creates a named access list; routes attach it by id. */
  addAccessList: { method: 'POST', path: '/api/access/lists', input: AccessListInputSchema },
  /** Replaces a list's name and entries; every route using it applies the change to its next request. */
  updateAccessList: { method: 'PUT', path: '/api/access/lists/:id', input: AccessListInputSchema.extend({ id: AccessListIdSchema }) },
  /** Removes a list; refused, naming the routes, while a route uses it. */
  removeAccessList: { method: 'DELETE', path: '/api/access/lists/:id', input: z.object({ id: AccessListIdSchema }).strict() },
  /** Would `address` get into the route, and why: each step the request path takes, in order. */
  checkAccess: {
    method: 'POST',
    path: '/api/access/check',
    input: z.object({ routeId: RouteIdSchema, address: z.union([z.ipv4(), z.ipv6()], { error: 'enter an IP address, such as 203.0.113.5' }) }).strict(),
  },
  /** Adds a sign-in user (basic auth); the password is stored only as an argon2id hash. */
  addAccessUser: { method: 'POST', path: '/api/access/users', input: z.object({ name: UserNameSchema, password: z.string().min(10, 'a password has at least 10 characters').max(512) }).strict() },
  setAccessUserPassword: {
    method: 'PUT',
    path: '/api/access/users/:name',
    input: z.object({ name: UserNameSchema, password: z.string().min(10, 'a password has at least 10 characters').max(512) }).strict(),
  },
  /** Removes a user; routes that named them keep working for the others (a route left with nobody refuses everyone). */
  removeAccessUser: { method: 'DELETE', path: '/api/access/users/:name', input: z.object({ name: UserNameSchema }).strict() },
  /** Adds a forward-auth server (Authelia, Authentik, tinyauth, oauth2-proxy). */
  addSignInProvider: { method: 'POST', path: '/api/access/providers', input: SignInProviderInputSchema },
  updateSignInProvider: { method: 'PUT', path: '/api/access/providers/:id', input: SignInProviderInputSchema.extend({ id: SignInProviderIdSchema }) },
  /** Removes a provider; refused, naming the routes, while a route uses it. */
  removeSignInProvider: { method: 'DELETE', path: '/api/access/providers/:id', input: z.object({ id: SignInProviderIdSchema }).strict() },
  /**
   * CrowdSec, scanner bans and the per-client connection cap. `crowdsecApiKey` sets the bouncer key
   * (left out: unchanged; "" removes it); the API never returns it, only whether one is set.
   */
  updateAccessSettings: {
    method: 'PATCH',
    path: '/api/access/settings',
    input: z
      .object({
        crowdsec: CrowdsecSettingsSchema.partial().optional(),
        crowdsecApiKey: z.string().trim().max(256, 'a bouncer key has at most 256 characters').regex(/^[\x21-\x7e]*$/, 'a bouncer key is one word, as `cscli bouncers add` printed it').optional(),
        scannerBan: ScannerBanSettingsSchema.partial().optional(),
        maxConnectionsPerClient: z.number().int().min(0).max(100_000).optional(),
      })
      .strict(),
  },
  /** Lifts a scanner ban (CrowdSec's own are lifted with `cscli decisions delete`). */
  liftBan: { method: 'POST', path: '/api/access/bans/lift', input: z.object({ address: AccessRangeSchema }).strict() },
} as const satisfies Record<string, EndpointSpec>;

export type ApiMember = keyof typeof endpoints;

/** What each member resolves to. */
export interface ApiResults {
  listRoutes: Route[];
  getRoute: Route;
  addRoute: Route;
  updateRoute: Route;
  setUpstreamDrained: Route;
  removeRoute: { removed: Route };
  getStatus: ProxyStatus;
  startProxy: ProxyStatus;
  stopProxy: ProxyStatus;
  checkPorts: PortCheck[];
  listStreams: StreamView[];
  getStream: StreamView;
  addStream: StreamView;
  updateStream: StreamView;
  removeStream: { removed: Stream };
  getHealth: RouteHealth[];
  getStats: StatsSnapshot;
  recentLog: AccessLogEntry[];
  searchLog: LogSearchResult;
  getHistory: RouteHistory;
  getHistorySummary: HistorySummary;
  runDoctor: DoctorReport;
  getInspector: InspectorView;
  setInspector: InspectorView;
  clearInspector: InspectorView;
  replayRequest: ReplayResult;
  getBackups: BackupsOverview;
  updateBackupSchedule: BackupsOverview;
  createBackup: BackupDownload;
  previewRestore: RestorePreview;
  restoreBackup: RestoreResult;
  previewNpmImport: NpmImportPreview;
  applyNpmImport: NpmImportResult;
  getSettings: GeneralSettings;
  updateSettings: GeneralSettings;
  exportSettings: SettingsExport;
  previewImport: ImportPreview;
  importSettings: { settings: GeneralSettings; routes: Route[] };
  getCertificates: CertificatesOverview;
  setCaDomains: CertificatesOverview;
  downloadCa: CaDownload;
  importCertificate: CustomCertificate;
  removeCertificate: { removed: CustomCertificate };
  renewCertificate: RouteCertificate;
  getTrustPlan: TrustPlan;
  trustCa: TrustResult;
  untrustCa: TrustResult;
  getAcmeDirectory: AcmeDirectoryInfo;
  addAcmeAccount: AcmeAccountView;
  updateAcmeAccount: AcmeAccountView;
  rolloverAcmeKey: AcmeAccountView;
  removeAcmeAccount: { removed: AcmeAccountView };
  addDnsProvider: DnsProviderView;
  updateDnsProvider: DnsProviderView;
  removeDnsProvider: { removed: DnsProviderView };
  testDnsProvider: PreflightCheck;
  preflightCertificate: PreflightReport;
  getDiscovery: DiscoveryOverview;
  probeHost: HostProbe;
  getPresets: AppPreset[];
  getAppInfo: AppInfo;
  getAccess: AccessOverview;
  addAccessList: AccessList;
  updateAccessList: AccessList;
  removeAccessList: { removed: AccessList };
  checkAccess: AccessVerdict;
  addAccessUser: AccessUser;
  setAccessUserPassword: AccessUser;
  removeAccessUser: { removed: AccessUser };
  addSignInProvider: SignInProvider;
  updateSignInProvider: SignInProvider;
  removeSignInProvider: { removed: SignInProvider };
  updateAccessSettings: AccessOverview;
  liftBan: AccessOverview;
}

/** What a caller passes (before defaults are applied). */
export type ApiInput<K extends ApiMember> = z.input<(typeof endpoints)[K]['input']>;
/** What a handler receives (validated, defaults applied). */
export type ApiParsedInput<K extends ApiMember> = z.output<(typeof endpoints)[K]['input']>;

// Members whose input is all-optional (or empty) may be called with no argument.
type ArgsFor<K extends ApiMember> = {} extends ApiInput<K> ? [input?: ApiInput<K>] : [input: ApiInput<K>];

/** The API as a caller sees it. */
export type Api = { [K in ApiMember]: (...args: ArgsFor<K>) => Promise<ApiResults[K]> };

/**
 * The API as the core implements it: inputs arrive validated, with who called (`context`: the
 * caller's address over HTTP; nothing in the desktop window). Most handlers ignore the context.
 */
export type ApiHandlers = { [K in ApiMember]: (input: ApiParsedInput<K>, context?: CallContext) => Promise<ApiResults[K]> };

// ---------------------------------------------------------------------------------------------
// Events

export interface ApiEvents {
  /** The proxy's state changed (started, stopped, failed, listener moved). */
  status: ProxyStatus;
  /** The route list changed; carries the whole new list. */
  routes: Route[];
  /** General settings changed. */
  settings: GeneralSettings;
  /**
   * Requests proxied (or refused) since the last `log` event, oldest first. Batched (at most one
   * event every 250 ms) so a busy proxy does not send one message per request to every window.
   */
  log: AccessLogEntry[];
  /** An upstream's health changed; carries every route's health. */
  health: RouteHealth[];
  /** A route failed over to another upstream, came back to its preferred one, or has none left. */
  failover: FailoverEvent;
  /** A certificate was issued, renewed, imported or removed, one neared expiry, or the CA changed. */
  certificates: CertificatesOverview;
  /**
   * A service appeared, changed or left the LAN, was identified, or a published name changed state.
   * Sent at most every 250 ms with the whole overview.
   */
  discovery: DiscoveryOverview;
  /**
   * Access lists, users, providers, CrowdSec's state or the bans changed. `yourAddress` is left null
   * here (each caller has its own; getAccess gives it).
   */
  access: AccessOverview;
  /** A stream was added, changed or removed, or its state, counters or health changed (at most every second). */
  streams: StreamView[];
}

export type ApiEventName = keyof ApiEvents;
export type ApiEvent = { [K in ApiEventName]: { type: K; data: ApiEvents[K] } }[ApiEventName];
export const apiEventNames = ['status', 'routes', 'settings', 'log', 'health', 'failover', 'certificates', 'discovery', 'access', 'streams'] as const satisfies readonly ApiEventName[];

// ---------------------------------------------------------------------------------------------
// Errors

export type ApiErrorCode =
  | 'invalid_input' // 400: the input failed validation; `issues` says which field and why
  | 'unauthorized' // 401: missing or wrong admin token
  | 'forbidden' // 403: the caller is not allowed (wrong origin or IPC sender)
  | 'not_found' // 404: no such route or endpoint
  | 'conflict' // 409: e.g. a host name already belongs to another route
  | 'port_unavailable' // 409: a listener could not bind its port; `fix` says how to free or allow it
  | 'rate_limited' // 429: too many attempts (sign-in); the message says when to try again
  | 'internal'; // 500: a bug; the message says so without internals

const statusForCode: Record<ApiErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  port_unavailable: 409,
  rate_limited: 429,
  internal: 500,
};

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. "names.1" or "proxy.httpPort"; "" for the whole input. */
  path: string;
  message: string;
}

/** The shape every transport uses to carry an error. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; fix?: string; issues?: FieldIssue[] };
}

/** An error a caller can show as it is: `message` is written for the user, `issues` name the fields. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: { fix?: string; issues?: FieldIssue[] } = {},
  ) {
    super(message);
  }

  get status(): number {
    return statusForCode[this.code];
  }

  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }

  static fromBody(body: unknown): ApiError {
    const error = (body as Partial<ApiErrorBody> | null)?.error;
    if (!error || typeof error.message !== 'string' || !(error.code in statusForCode)) {
      return new ApiError('internal', 'Gatehouse sent an answer that could not be read.');
    }
    return new ApiError(error.code, error.message, { fix: error.fix, issues: error.issues });
  }

  static fromProblem(code: ApiErrorCode, problem: Problem): ApiError {
    return new ApiError(code, problem.message, problem.fix ? { fix: problem.fix } : {});
  }
}

/**
 * Turns a zod failure into an `invalid_input` error that names each field and says what to fix.
 * `under` is where the validated value sits in the caller's input (["settings"] for an import file).
 */
export function invalidInput(error: z.ZodError, under: readonly PropertyKey[] = []): ApiError {
  const issues: FieldIssue[] = error.issues.map((issue) => ({
    path: [...under, ...issue.path].map(String).join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}` : issue.message,
  }));
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  return new ApiError('invalid_input', summary || 'the input is not valid', { issues });
}

/** Validates a member's input with its schema; throws `invalid_input` naming the field on failure. */
export function parseInput<K extends ApiMember>(member: K, input: unknown): ApiParsedInput<K> {
  const result = endpoints[member].input.safeParse(input ?? {});
  if (!result.success) throw invalidInput(result.error);
  return result.data as ApiParsedInput<K>;
}

export function isApiMember(name: unknown): name is ApiMember {
  return typeof name === 'string' && Object.hasOwn(endpoints, name);
}

// ---------------------------------------------------------------------------------------------
// Client side

/** How a user interface reaches the core: Electron's preload bridge, or HTTP against `gatehouse serve`. */
export interface ApiTransport {
  /** Calls one member; rejects with an ApiError (or something `ApiError.fromBody` can read). */
  call(member: ApiMember, input: unknown): Promise<unknown>;
  /**
   * Delivers events until the returned function is called: those of `types`, or every event when
   * it is left out. A transport may deliver more than asked (the listener filters); `types` lets it
   * spare the core work nobody needs, such as gathering log batches while no page shows the log.
   */
  subscribe(listener: (event: ApiEvent) => void, types?: readonly ApiEventName[]): () => void;
}

export interface ApiClient extends Api {
  /** Listens to one kind of event; returns the function that stops listening. */
  on<E extends ApiEventName>(name: E, listener: (data: ApiEvents[E]) => void): () => void;
}

/** Builds the typed API over a transport. Pure: all behaviour comes from the transport. */
export function createApiClient(transport: ApiTransport): ApiClient {
  const client = {} as Record<string, unknown>;
  for (const member of Object.keys(endpoints) as ApiMember[]) {
    client[member] = async (input?: unknown) => {
      try {
        return await transport.call(member, input ?? {});
      } catch (error) {
        throw error instanceof ApiError ? error : ApiError.fromBody(error);
      }
    };
  }
  client.on = <E extends ApiEventName>(name: E, listener: (data: ApiEvents[E]) => void) =>
    transport.subscribe(
      (event) => {
        if (event.type === name) listener(event.data as ApiEvents[E]);
      },
      [name],
    );
  return client as unknown as ApiClient;
}
