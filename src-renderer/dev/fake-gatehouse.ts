// An in-memory Gatehouse behind the ApiTransport interface, for the renderer's unit tests and for
// looking at the pages without a running core (the screenshot script injects it as the Electron
// bridge). Inputs go through the contract's own schemas (parseInput), so a bad input is refused
// exactly as the real gateway refuses it. Never part of the shipped bundle.
import {
  ApiError,
  parseInput,
  type ApiEvent,
  type ApiEvents,
  type ApiMember,
  type ApiResults,
  type ApiTransport,
} from '../../shared/api.js';
import { applySettingsPatch, defaultSettings, findNameConflicts, noTls, publishOnLanProblem, SETTINGS_VERSION, type GeneralSettings, type Route } from '../../shared/model.js';
import {
  SETTINGS_EXPORT_FORMAT,
  type AccessLogEntry,
  type AppInfo,
  type DiscoveredService,
  type ProxyStatus,
  type RouteHealth,
  type RunOverrides,
  type UpstreamHealth,
} from '../../shared/status.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';
import { defaultAcmeSettings, type RouteAcme } from '../../shared/acme.js';
import { defaultAccessSettings, defaultRouteAccess, type AccessList, type AccessSettings, type SignInProvider } from '../../shared/access.js';
import { FakeAccess } from './fake-access.js';
import type { FakeAcme } from './fake-acme.js';
import { FakeCertificates } from './fake-certificates.js';
import { FakeDiscovery } from './fake-discovery.js';
import { FakeStreams } from './fake-streams.js';
import type { HistoryRange } from '../../shared/insight.js';
import { FakeHistory } from './fake-history.js';
import { FakeLogSearch, type FakeLogSearchInput } from './fake-log-search.js';
import { FakeDoctor } from './fake-doctor.js';
import { FakeInspector } from './fake-inspector.js';
import { FakeBackups } from './fake-backups.js';
import { FakeNpmImport } from './fake-npm-import.js';
import { defaultInsightSettings } from '../../shared/insight.js';
import { listenPorts, transportOf, type Stream } from '../../shared/streams.js';
import type { PortCheck } from '../../shared/status.js';

export interface FakeGatehouseOptions {
  routes?: Route[];
  settings?: Partial<GeneralSettings>;
  log?: AccessLogEntry[];
  canStartAtLogin?: boolean;
  /** Ports that checkPorts reports as taken. */
  busyPorts?: number[];
  /** "Now" for certificate dates (default: the real time). */
  now?: () => Date;
  /** Services on the LAN (see sampleServices); default none. */
  services?: DiscoveredService[];
  /** Command-line overrides of this run (what `serve --http-port …` sets); they also set the listeners. Default none. */
  overrides?: RunOverrides;
  /** What getAppInfo says hosts the UI. Default: 'headless'. */
  shell?: AppInfo['shell'];
}

type Handlers = { [K in ApiMember]: (input: never) => Promise<ApiResults[K]> };

export class FakeGatehouse implements ApiTransport {
  routes: Route[];
  settings: GeneralSettings;
  status: ProxyStatus;
  health: RouteHealth[] = [];
  log: AccessLogEntry[];
  /** Every call, in order, with its raw input. */
  readonly calls: { member: ApiMember; input: unknown }[] = [];
  readonly #listeners = new Set<(event: ApiEvent) => void>();
  /** Errors to throw from the next call of a member (once each). */
  readonly #failures = new Map<ApiMember, ApiError>();
  readonly #options: FakeGatehouseOptions;
  #nextId = 1;
  /** The local CA, route certificates, imported certificates and trust on this machine. */
  readonly certificates: FakeCertificates;
  /** Access lists, users, sign-in providers and CrowdSec. */
  readonly access = new FakeAccess(
    () => this.routes,
    (overview) => this.emit('access', overview),
  );
  /** Services on the LAN, presets, host probes and published names. */
  readonly discovery: FakeDiscovery;
  /** TCP, UDP and FTP streams with their statuses. */
  readonly streams: FakeStreams;
  readonly history: FakeHistory;
  /** The log "on disk": the live log plus `logSearch.older`, searched by searchLog. */
  readonly logSearch = new FakeLogSearch(() => this.log);
  readonly doctor = new FakeDoctor();
  readonly inspector = new FakeInspector(() => this.routes);
  readonly backups = new FakeBackups();
  readonly npmImport = new FakeNpmImport();

  constructor(options: FakeGatehouseOptions = {}) {
    this.#options = options;
    const { routes: _routes, version: _version, ...general } = defaultSettings();
    this.settings = { ...general, ...options.settings };
    this.routes = options.routes ?? [];
    this.log = options.log ?? [];
    const listen = { ...this.settings.proxy, ...options.overrides };
    this.status = {
      state: 'running',
      http: { address: listen.bindAddress, port: listen.httpPort },
      https: { address: listen.bindAddress, port: listen.httpsPort },
      problem: null,
      startedAt: '2026-11-21T09:00:00.000Z',
      routeCount: this.routes.length,
      lanAddresses: ['192.168.1.20'],
      settingsNotice: null,
      overrides: { ...options.overrides },
    };
    this.certificates = new FakeCertificates({
      routes: () => this.routes,
      status: () => this.status,
      emit: (overview) => this.emit('certificates', overview),
      now: options.now ?? (() => new Date()),
    });
    this.streams = new FakeStreams({
      routes: () => this.routes,
      status: () => this.status,
      listIds: () => this.access.settings.lists.map((list) => list.id),
      emit: (views) => this.emit('streams', views),
      busyPorts: () => options.busyPorts ?? [],
    });
    this.history = new FakeHistory({ routes: () => this.routes, now: options.now ?? (() => new Date()) });
    this.discovery = new FakeDiscovery(
      { routes: () => this.routes, settings: () => this.settings, status: () => this.status, emit: (overview) => this.emit('discovery', overview) },
      options.services,
    );
  }

  /** The next call of `member` rejects with `error`. */
  failNext(member: ApiMember, error: ApiError): void {
    this.#failures.set(member, error);
  }

  emit<E extends keyof ApiEvents>(type: E, data: ApiEvents[E]): void {
    for (const listener of [...this.#listeners]) listener({ type, data } as ApiEvent);
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  async call(member: ApiMember, input: unknown): Promise<unknown> {
    this.calls.push({ member, input });
    const failure = this.#failures.get(member);
    if (failure) {
      this.#failures.delete(member);
      throw failure;
    }
    const parsed = parseInput(member, input);
    return (this.#handlers[member] as (input: unknown) => Promise<unknown>)(parsed);
  }

  callsOf(member: ApiMember): unknown[] {
    return this.calls.filter((call) => call.member === member).map((call) => call.input);
  }

  #saveRoutes(routes: Route[], saved?: Route): void {
    const lanProblem = saved ? publishOnLanProblem(saved) : null;
    if (lanProblem) throw new ApiError('invalid_input', `publishOnLan: ${lanProblem}`, { issues: [{ path: 'publishOnLan', message: lanProblem }] });
    const accessIssues = saved ? this.access.routeIssues(saved) : [];
    if (accessIssues.length > 0) throw new ApiError('invalid_input', `${accessIssues[0]!.path}: ${accessIssues[0]!.message}`, { issues: accessIssues });
    const issues = saved ? this.certificates.routeIssues(saved) : [];
    if (issues.length > 0) throw new ApiError('invalid_input', `${issues[0]!.path}: ${issues[0]!.message}`, { issues, fix: 'Change the names, or choose another HTTPS option.' });
    const conflict = findNameConflicts(routes)[0];
    if (conflict) throw new ApiError('conflict', `"${conflict.name}" already belongs to another route.`, { fix: 'Remove the name from one of the two routes.' });
    this.routes = routes;
    this.status = { ...this.status, routeCount: routes.length };
    this.emit('routes', routes);
    this.certificates.changed();
    this.discovery.changed();
  }

  #route(id: string): Route {
    const route = this.routes.find((candidate) => candidate.id === id);
    if (!route) throw new ApiError('not_found', `There is no route "${id}".`);
    return route;
  }

  #setStatus(change: Partial<ProxyStatus>): ProxyStatus {
    this.status = { ...this.status, ...change };
    this.emit('status', this.status);
    this.streams.changed();
    return this.status;
  }

  /** One port as checkPorts reports it: free, held by this proxy, or not bindable with the fix. */
  #portCheck(check: Pick<PortCheck, 'role' | 'port' | 'streamId' | 'transport' | 'portEnd'>): PortCheck {
    const { port } = check;
    const busy = this.#options.busyPorts?.includes(port) ?? false;
    const streamLow = check.role !== 'http' && check.role !== 'https' && port < 1024;
    const own = this.status.state === 'running' && (this.status.http?.port === port || this.status.https?.port === port);
    const problem = streamLow
      ? { code: 'port_privileged', message: `Port ${port} is below 1024: Gatehouse needs the right to bind low ports.`, fix: `sudo setcap 'cap_net_bind_service=+ep' "$(command -v node)", or choose a port from 1024 up` }
      : busy
        ? { code: 'port_privileged', message: `Port ${port} needs administrator rights on Linux.`, fix: `sudo setcap 'cap_net_bind_service=+ep' "$(command -v node)"` }
        : null;
    return { ...check, address: this.settings.proxy.bindAddress, ...(own ? { ownProxy: true as const } : {}), available: problem === null, problem };
  }

  /** A stream's listen port(s) and an FTP stream's passive range, as checkPorts reports them. */
  #streamChecks(stream: Stream): PortCheck[] {
    const ports = listenPorts(stream);
    const checks = [this.#portCheck({ role: 'stream', port: stream.listenPort, streamId: stream.id, transport: transportOf(stream.protocol), portEnd: stream.listenPortEnd })];
    if (ports.length > 1 && checks[0]!.available) {
      const busy = ports.find((port) => this.#options.busyPorts?.includes(port));
      if (busy !== undefined) checks[0] = this.#portCheck({ role: 'stream', port: busy, streamId: stream.id, transport: transportOf(stream.protocol), portEnd: stream.listenPortEnd });
    }
    if (stream.ftp) checks.push(this.#portCheck({ role: 'ftp-passive', port: stream.ftp.passivePortFrom, streamId: stream.id, transport: 'tcp', portEnd: stream.ftp.passivePortTo }));
    return checks;
  }

  readonly #handlers: Handlers = {
    listRoutes: async () => this.routes,
    getRoute: async ({ id }: { id: string }) => this.#route(id),
    addRoute: async (input: Omit<Route, 'id'>) => {
      const route: Route = { id: `route-${this.#nextId++}`, ...input };
      this.#saveRoutes([...this.routes, route], route);
      return route;
    },
    updateRoute: async (input: Route) => {
      this.#route(input.id);
      this.#saveRoutes(this.routes.map((route) => (route.id === input.id ? input : route)), input);
      return input;
    },
    setUpstreamDrained: async ({ id, url, drained }: { id: string; url: string; drained: boolean }) => {
      const existing = this.#route(id);
      if (!existing.upstreams.some((target) => target.url === url)) throw new ApiError('not_found', `${url} is not an upstream of this route.`);
      const route = { ...existing, upstreams: existing.upstreams.map((target) => (target.url === url ? { ...target, drained } : target)) };
      this.#saveRoutes(this.routes.map((other) => (other.id === id ? route : other)), route);
      return route;
    },
    removeRoute: async ({ id }: { id: string }) => {
      const removed = this.#route(id);
      this.#saveRoutes(this.routes.filter((route) => route.id !== id));
      return { removed };
    },
    getStatus: async () => this.status,
    startProxy: async () =>
      this.#setStatus({ state: 'running', http: { address: this.settings.proxy.bindAddress, port: this.settings.proxy.httpPort }, problem: null }),
    stopProxy: async () => this.#setStatus({ state: 'stopped', http: null, https: null, startedAt: null }),
    checkPorts: async ({ httpPort, httpsPort, streams }: { httpPort: number; httpsPort?: number; streams: boolean }) => [
      ...[{ role: 'http' as const, port: httpPort }, ...(httpsPort === undefined ? [] : [{ role: 'https' as const, port: httpsPort }])].map(({ role, port }) => this.#portCheck({ role, port })),
      ...(streams ? this.streams.streams.filter((stream) => stream.enabled).flatMap((stream) => this.#streamChecks(stream)) : []),
    ],
    getHealth: async () => this.health,
    getStats: async () => ({
      time: new Date(0).toISOString(),
      unmatched: 0,
      routes: this.routes.map((route, index) => ({
        routeId: route.id,
        requests: 100 * (index + 1),
        errors: index,
        bytesIn: 0,
        bytesOut: 0,
        p50Ms: 4,
        p99Ms: 20 + index * 7,
        requestsPerMinute: 12 * (index + 1),
        openWebSockets: 0,
        refused: 3 * index,
        refusedPerMinute: index,
      })),
    }),
    recentLog: async ({ limit }: { limit: number }) => this.log.slice(-limit),
    getSettings: async () => this.settings,
    updateSettings: async (patch: Parameters<typeof applySettingsPatch>[1]) => {
      this.settings = applySettingsPatch(this.settings, patch);
      this.emit('settings', this.settings);
      if (patch.lan) this.discovery.changed();
      return this.settings;
    },
    exportSettings: async () => ({
      format: SETTINGS_EXPORT_FORMAT,
      exportedAt: new Date(0).toISOString(),
      appVersion: '0.1.0',
      settings: { version: SETTINGS_VERSION, ...this.settings, access: defaultAccessSettings(), acme: defaultAcmeSettings(), streams: this.streams.streams, insight: defaultInsightSettings(), routes: this.routes },
    }),
    previewImport: async ({ document }: { document: unknown }) => {
      const routes = (document as { settings?: { routes?: Route[] } })?.settings?.routes;
      if (!Array.isArray(routes)) {
        throw new ApiError('invalid_input', 'settings.routes: this is not a Gatehouse settings file', {
          issues: [{ path: 'document.settings.routes', message: 'this is not a Gatehouse settings file' }],
        });
      }
      const current = new Map(this.routes.map((route) => [route.id, route]));
      const incoming = new Map(routes.map((route) => [route.id, route]));
      const changed = routes.filter((route) => current.has(route.id) && JSON.stringify(current.get(route.id)) !== JSON.stringify(route));
      return {
        routes: {
          added: routes.filter((route) => !current.has(route.id)),
          removed: this.routes.filter((route) => !incoming.has(route.id)),
          changed: changed.map((after) => ({ before: current.get(after.id)!, after })),
          unchanged: routes.filter((route) => current.has(route.id)).length - changed.length,
        },
        settings: [],
        fileVersion: SETTINGS_VERSION,
        exportedAt: null,
        warnings: [],
      };
    },
    importSettings: async ({ document }: { document: unknown }) => {
      const routes = (document as { settings: { routes: Route[] } }).settings.routes;
      this.#saveRoutes(routes);
      return { settings: this.settings, routes };
    },
    getCertificates: async () => this.certificates.overview(),
    setCaDomains: async ({ domains }: { domains: string[] }) => this.certificates.setDomains(domains),
    downloadCa: async ({ format }: { format: 'pem' | 'der' | 'mobileconfig' }) => this.certificates.download(format),
    importCertificate: async (input: { label?: string; certificatePem: string; privateKeyPem: string; chainPem?: string }) => this.certificates.import(input),
    removeCertificate: async ({ id }: { id: string }) => this.certificates.remove(id),
    renewCertificate: async ({ routeId }: { routeId: string }) => this.certificates.renew(routeId),
    getTrustPlan: async () => this.certificates.trustPlan(),
    trustCa: async () => this.certificates.runTrust(true),
    untrustCa: async () => this.certificates.runTrust(false),
    getAcmeDirectory: async ({ directoryUrl }: { directoryUrl: string }) => this.certificates.acme.directory(directoryUrl),
    addAcmeAccount: async (input: Parameters<FakeAcme['addAccount']>[0]) => this.certificates.acme.addAccount(input),
    updateAcmeAccount: async (input: Parameters<FakeAcme['updateAccount']>[0]) => this.certificates.acme.updateAccount(input),
    rolloverAcmeKey: async ({ id }: { id: string }) => this.certificates.acme.rollover(id),
    removeAcmeAccount: async ({ id }: { id: string }) => this.certificates.acme.removeAccount(id),
    addDnsProvider: async (input: Parameters<FakeAcme['addProvider']>[0]) => this.certificates.acme.addProvider(input),
    updateDnsProvider: async (input: Parameters<FakeAcme['updateProvider']>[0]) => this.certificates.acme.updateProvider(input),
    removeDnsProvider: async ({ id }: { id: string }) => this.certificates.acme.removeProvider(id),
    testDnsProvider: async ({ id, name }: { id: string; name: string }) => this.certificates.acme.testProvider(id, name),
    preflightCertificate: async ({ names, acme }: { names: string[]; acme: RouteAcme }) => {
      const report = this.certificates.acme.preflight(names, acme);
      this.certificates.changed();
      return report;
    },
    listStreams: async () => this.streams.views(),
    getStream: async ({ id }: { id: string }) => this.streams.view(this.streams.get(id)),
    addStream: async (input: Omit<Stream, 'id'>) => this.streams.add(input),
    updateStream: async (input: Stream) => this.streams.update(input),
    removeStream: async ({ id }: { id: string }) => this.streams.remove(id),
    getDiscovery: async () => this.discovery.overview(),
    probeHost: async ({ address, ports }: { address: string; ports?: number[] }) => this.discovery.probe(address, ports),
    getPresets: async () => this.discovery.presets,
    getAccess: async () => this.access.overview(),
    addAccessList: async (input: Omit<AccessList, 'id'>) => this.access.addList(input),
    updateAccessList: async (input: AccessList) => this.access.updateList(input),
    removeAccessList: async ({ id }: { id: string }) => this.access.removeList(id),
    checkAccess: async ({ routeId, address }: { routeId: string; address: string }) => {
      const route = this.routes.find((candidate) => candidate.id === routeId);
      if (!route) throw new ApiError('not_found', `There is no route "${routeId}".`);
      return this.access.verdict(route, address);
    },
    addAccessUser: async ({ name }: { name: string }) => this.access.addUser(name),
    setAccessUserPassword: async ({ name }: { name: string }) => this.access.setPassword(name),
    removeAccessUser: async ({ name }: { name: string }) => this.access.removeUser(name),
    addSignInProvider: async (input: Omit<SignInProvider, 'id'>) => this.access.addProvider(input),
    updateSignInProvider: async (input: SignInProvider) => this.access.updateProvider(input),
    removeSignInProvider: async ({ id }: { id: string }) => this.access.removeProvider(id),
    updateAccessSettings: async (input: { crowdsec?: Partial<AccessSettings['crowdsec']>; crowdsecApiKey?: string }) => this.access.updateSettings(input),
    liftBan: async ({ address }: { address: string }) => this.access.liftBan(address),
    searchLog: async (input: FakeLogSearchInput) => this.logSearch.search(input),
    getHistory: async ({ routeId, range }: { routeId: string; range: HistoryRange }) => this.history.getHistory(routeId, range),
    getHistorySummary: async ({ range }: { range: HistoryRange }) => this.history.getHistorySummary(range),
    runDoctor: async ({ routeId, visitor }: { routeId: string; visitor?: string }) => this.doctor.run(this.routes.find((route) => route.id === routeId), visitor),
    getInspector: async ({ routeId }: { routeId: string }) => this.inspector.view(routeId),
    setInspector: async (input: { routeId: string; enabled: boolean; keep?: number; bodyBytes?: number }) => this.inspector.set(input),
    clearInspector: async ({ routeId }: { routeId: string }) => this.inspector.clear(routeId),
    replayRequest: async (input: { routeId: string; captureId: string }) => this.inspector.replay(input),
    getBackups: async () => this.backups.overview(),
    updateBackupSchedule: async (input: Parameters<FakeBackups['updateSchedule']>[0]) => this.backups.updateSchedule(input),
    createBackup: async () => this.backups.create(),
    previewRestore: async (input: { passphrase: string; fileName?: string }) => this.backups.preview(input),
    restoreBackup: async (input: { passphrase: string; fileName?: string }) => this.backups.restore(input),
    previewNpmImport: async ({ folder }: { folder: string }) => this.npmImport.preview(folder),
    applyNpmImport: async ({ folder, keys }: { folder: string; keys: string[] }) => this.npmImport.apply(folder, keys),
    getAppInfo: async () => ({
      version: '0.1.0',
      shell: this.#options.shell ?? ('headless' as const),
      platform: 'linux',
      canStartAtLogin: this.#options.canStartAtLogin ?? false,
    }),
  };
}

/** A route with the defaults filled in, for tests and the screenshot fixtures. */
export function sampleRoute({ upstream, ...fields }: Partial<Route> & Pick<Route, 'id' | 'names'> & { upstream?: string }): Route {
  return {
    upstreams: fields.redirect ? [] : singleUpstream(upstream ?? 'http://10.33.0.4:8096'),
    redirect: null,
    balancing: defaultBalancing(),
    healthCheck: defaultHealthCheck(),
    enabled: true,
    websocket: true,
    insecureUpstreamTls: false,
    rewriteHost: null,
    trustedProxies: null,
    tls: noTls(),
    publishOnLan: false,
    app: null,
    access: defaultRouteAccess(),
    ...fields,
  };
}

/** One server's health as the health report gives it: up, never checked, serving nothing yet. */
export function sampleUpstreamHealth(url: string, fields: Partial<UpstreamHealth> = {}): UpstreamHealth {
  return {
    url,
    address: url.replace(/^https?:\/\//, ''),
    state: 'up',
    since: null,
    lastCheck: null,
    coolingUntil: null,
    passiveFailures: 0,
    problem: null,
    drained: false,
    backup: false,
    weight: 1,
    available: true,
    served: 0,
    inFlight: 0,
    ...fields,
  };
}

/** An access-log entry with the usual fields, for tests and the screenshot fixtures. */
export function sampleLogEntry(fields: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    time: '2026-11-21T10:00:00.000Z',
    client: '192.168.1.30',
    host: 'jellyfin.home.arpa',
    method: 'GET',
    path: '/',
    status: 200,
    bytes: 512,
    durationMs: 12,
    routeId: 'route-a',
    upstream: '10.33.0.4:8096',
    error: null,
    detail: null,
    rule: null,
    user: null,
    ...fields,
  };
}
