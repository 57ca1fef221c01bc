// The composition root: builds the settings store, the proxy engine and the access log from the data
// directory, and implements every member of the API contract over them. Both transports (Electron
// IPC and `gatehouse serve`) carry exactly these handlers, so behaviour lives here, once.
//
// Every change follows one order: check it against the current settings, persist it (durable when
// the store resolves), apply it to the running engine, then tell subscribers. A crash between any
// two steps therefore loses nothing that was acknowledged, and what the engine runs was saved first.
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, invalidInput, type ApiEvent, type ApiEventName, type ApiHandlers } from '../../shared/api.js';
import { IpAddressSchema, PortSchema, type ProxySettings, type Settings } from '../../shared/model.js';
import type { AppInfo, ProxyStatus } from '../../shared/status.js';
import { openSecretStore, type SecretBox, type SecretStore } from './certs/acme/secret-store.js';
import { CertificateService } from './certs/certificate-service.js';
import { AcmeService, type AcmeServiceOptions } from './certs/acme/acme-service.js';
import { ChallengeStore } from './certs/acme/challenge-store.js';
import { onboardingPages } from './certs/onboarding.js';
import type { TrustEnvironment } from './certs/trust-store.js';
import { AccessRuntime } from './access/access-runtime.js';
import { AdminEndpoint } from './gateway/admin-endpoint.js';
import { accessHandlers, assertAccessReferences } from './gateway/access-handlers.js';
import { acmeHandlers, acmeOverview, type AcmeExtensions } from './gateway/acme-handlers.js';
import { streamHandlers } from './gateway/stream-handlers.js';
import { historyHandlers } from './gateway/history-handlers.js';
import { HistoryStore } from './insight/history-store.js';
import { logSearchHandlers } from './gateway/log-search-handlers.js';
import { doctorHandlers } from './gateway/doctor-handlers.js';
import { inspectorHandlers, prunedInsight } from './gateway/inspector-handlers.js';
import { Inspector } from './insight/inspector.js';
import { DEFAULT_PUBLIC_RESOLVERS } from './certs/acme/preflight/index.js';
import { trustPlan } from './certs/trust-store.js';
import { backupService } from './gateway/backup-handlers.js';
import { npmImportHandlers } from './gateway/npm-import-handlers.js';
import { StreamRun } from './gateway/stream-events.js';
import { dnsProviders } from './gateway/dns-provider-handlers.js';
import { challengePortOverride, dnsServerOverride, gatewayPreflight, preflightOverridesFor, type PreflightOverrides } from './gateway/acme-preflight.js';
import { certificateHandlers, certificatesOverview, certificatesUnusable, httpsWarnings } from './gateway/certificate-handlers.js';
import { Discovery, mdnsEnvironmentProblem } from './discovery/discovery.js';
import { discoveryHandlers } from './gateway/discovery-handlers.js';
import { EventHub } from './gateway/event-hub.js';
import { LogBatches } from './gateway/log-batches.js';
import { onboardingProblem, onboardingUrls } from './gateway/onboarding-urls.js';
import { checkPorts, checkStreamPorts } from './gateway/port-check.js';
import { ProxyRunner } from './gateway/proxy-runner.js';
import { assertImportPublishable, assertNamesFree, assertPublishable, assertStreamsKeepCertificate, findRoute, newRouteId, toRoute, withPresetCheck } from './gateway/route-edits.js';
import { SerialQueue } from './gateway/serial-queue.js';
import { generalSettings, saveSettings, settingsChanges } from './gateway/settings-changes.js';
import { exportSettings, previewImport, readImport } from './gateway/settings-transfer.js';
import { TrailingThrottle } from './gateway/trailing-throttle.js';
import { lockDataDir } from './data-dir-lock.js';
import { lanAddresses } from './net/lan-addresses.js';
import { OwnNetworks } from './net/own-networks.js';
import { packageVersion } from './package-root.js';
import { AccessLog } from './proxy/access-log.js';
import { detailAudience } from './proxy/error-audience.js';
import { StreamManager } from './streams/stream-manager.js';
import { createFtpHandler } from './streams/ftp/ftp-handler.js';
import { ProxyEngine } from './proxy/engine.js';
import { UpstreamHealth } from './upstreams/health.js';
import { loadStickyKey } from './upstreams/sticky-key.js';
import { SettingsStore } from './settings/store.js';

/**
 * Listener settings for this run only, e.g. from `gatehouse serve --http-port 8080`. They are never
 * written to the settings file, and a settings change through the API to the same field replaces
 * the override (the user's latest word wins).
 */
export interface GatewayOverrides {
  httpPort?: number;
  httpsPort?: number;
  bindAddress?: string;
}

export interface GatewayOptions {
  /** Where settings.json, access.log and (headless) admin-token live. */
  dataDir: string;
  overrides?: GatewayOverrides;
  /** Which app hosts this gateway, for getAppInfo. Default: 'headless'. */
  shell?: AppInfo['shell'];
  /** Whether the shell can register Gatehouse to start at login (the desktop app can). Default: false. */
  canStartAtLogin?: boolean;
  /** Where "Trust on this machine" finds the trust stores and tools. Default: this machine's own (tests use temp folders). */
  trustEnvironment?: TrustEnvironment;
  /**
   * The IPv4 address of the interface mDNS browses and publishes on. Default: every interface for
   * listening, the system's route to 224.0.0.251 for sending.
   */
  mdnsInterface?: string;
  /** Overrides the GATEHOUSE_MDNS environment variable ("off" forces mDNS off for this run). Default: process.env.GATEHOUSE_MDNS. */
  mdnsEnvironment?: string;
  /** Seals ACME secrets (DNS credentials); the desktop app passes the OS keystore's. Default: a 0600 key file in the data directory. */
  secretBox?: SecretBox;
  /** DNS servers to ask for ACME's TXT records instead of each zone's own name servers ("ip" or "ip:port"). Default: the zone's. */
  dnsResolvers?: readonly string[];
  /**
   * Replacements for the ACME side's parts (tests): the DNS-01 provider for an id, the pre-flight,
   * the provider list. Default: the DNS providers in settings, the real pre-flight.
   */
  acme?: AcmeExtensions & Pick<AcmeServiceOptions, 'dnsProviderFor'>;
  /**
   * Where the pre-flight asks DNS and what it counts as reachable (tests point it at their bind9).
   * Default: from GATEHOUSE_DNS_SERVER when set (gateway/acme-preflight.ts), else public DNS.
   */
  acmePreflight?: PreflightOverrides;
  /** The traffic history's clock in ms (tests move it to read buckets back without waiting). Default: Date.now. */
  historyClock?: () => number;
  /**
   * Record traffic history. Default: true, unless the environment says GATEHOUSE_HISTORY=off (the
   * bench's baseline for what history costs; nothing is recorded and the History charts stay empty).
   */
  history?: boolean;
  /** Scheduled backups (tests): how long one hour of the schedule lasts, ms. Default: an hour. */
  backups?: { hourMs?: number };
}

export interface Gateway {
  readonly dataDir: string;
  /** Every API member; inputs must already be validated with `parseInput`. */
  handlers: ApiHandlers;
  /** The admin web UI's HTTPS certificate and the onboarding page's link to it (headless). */
  readonly admin: AdminEndpoint;
  /** Delivers every event (or only the types in `only`) until the returned function is called. */
  subscribe(listener: (event: ApiEvent) => void, only?: readonly ApiEventName[]): () => void;
  /**
   * Starts the proxy when `proxy.startOnLaunch` is set. Never rejects because the proxy could not
   * listen: the status then says `failed` with the Problem and its fix.
   */
  startup(): Promise<void>;
  /** Stops the proxy (in-flight requests get a grace period), flushes settings, closes the log. Idempotent. */
  close(): Promise<void>;
}

const OverridesSchema = z
  .object({ httpPort: PortSchema, httpsPort: PortSchema, bindAddress: IpAddressSchema })
  .partial()
  .strict();

/**
 * Shortest time between two `health` events. A flapping upstream (or one whose checks and requests
 * disagree) would otherwise repaint the dashboard and re-evaluate the tray on every change; the event
 * that goes out carries the latest state, and the first change after a quiet spell is not delayed.
 * Default: 300 ms.
 */
export const HEALTH_EVENT_INTERVAL_MS = 300;

/**
 * Shortest time between two `certificates` events: issuing for several routes (an import, a CA
 * change) reports each one, and the page needs only the end state. Default: 200 ms.
 */
export const CERTIFICATES_EVENT_INTERVAL_MS = 200;

/**
 * Shortest time between two `discovery` events: a burst of announcements (a device that comes up
 * announces several services, each twice) becomes a few updates of the whole overview. Default: 250 ms.
 */
export const DISCOVERY_EVENT_INTERVAL_MS = 250;

/** The addresses a published name answers with: the LAN addresses the proxy listens on. */
function publishAddresses(bindAddress: string): string[] {
  const addresses = lanAddresses();
  return bindAddress === '0.0.0.0' || bindAddress === '::' ? addresses : addresses.filter((address) => address === bindAddress);
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const parsedOverrides = OverridesSchema.safeParse(options.overrides ?? {});
  if (!parsedOverrides.success) throw invalidInput(parsedOverrides.error);
  // Only fields actually given: a key holding undefined would erase the saved value when spread.
  const overrides: GatewayOverrides = Object.fromEntries(Object.entries(parsedOverrides.data).filter(([, value]) => value !== undefined));

  const lock = await lockDataDir(options.dataDir);
  const hub = new EventHub();
  // Announces the certificates overview to those who want it; throttled (see the constant).
  const emitCertificates = () =>
    hub.emit({ type: 'certificates', data: certificatesOverview({ certificates, routes: () => store.current.routes, onboardingReach, acme: acmeView }) });
  const certificateEvents = new TrailingThrottle(emitCertificates, CERTIFICATES_EVENT_INTERVAL_MS);
  const admin = new AdminEndpoint({ ca: () => certificates.ca });
  const announceCertificates = () => {
    admin.caMaybeChanged();
    if (hub.wants('certificates')) certificateEvents.request();
  };
  let store: SettingsStore;
  let certificates: CertificateService;
  let acme: AcmeService;
  // HTTP-01 answers: orders put them here, the engine's HTTP listener serves them ahead of routing.
  const challenges = new ChallengeStore();
  // GATEHOUSE_DNS_SERVER: one DNS server for every ACME DNS question (a private CA's LAN DNS, tests).
  const dnsServer = dnsServerOverride(process.env.GATEHOUSE_DNS_SERVER);
  const dnsResolvers = options.dnsResolvers ?? dnsServer?.resolvers;
  const acmeExtensions: AcmeExtensions = {
    dnsProviderViews: () => dnsProviderService.views(),
    preflight: (input) => preflight(input),
    ...options.acme,
  };
  const acmeView = () => acmeOverview({ acme, current: () => store.current, secretsStoredIn: secrets.storedIn, ...acmeExtensions });
  let access: AccessRuntime;
  let stickyKey: Buffer;
  let secrets: SecretStore;
  const ownNetworks = new OwnNetworks();
  // Announces what the Access page shows (a CrowdSec state change, a new ban), at most every 250 ms.
  const accessEvents = new TrailingThrottle(() => hub.emit({ type: 'access', data: access.overview() }), DISCOVERY_EVENT_INTERVAL_MS);
  try {
    store = await SettingsStore.open(options.dataDir);
    acme = await AcmeService.open(
      {
        dataDir: options.dataDir,
        settings: () => store.current.acme,
        challenges,
        onChange: announceCertificates,
        dnsProviderFor: options.acme?.dnsProviderFor ?? (async (id: string) => (await dnsProviderService.providerFor(id)).provider),
        ...(dnsResolvers ? { dnsResolvers } : {}),
      },
      store.current.routes,
    );
    certificates = await CertificateService.open({ dataDir: options.dataDir, onChange: announceCertificates, acme }).catch((error: unknown) => {
      throw certificatesUnusable(error, options.dataDir);
    });
    access = await AccessRuntime.open({
      dataDir: options.dataDir,
      ownNetworks,
      settings: store.current.access,
      onChange: () => void (hub.wants('access') && accessEvents.request()),
    });
    stickyKey = await loadStickyKey(options.dataDir);
    secrets = await openSecretStore(options.dataDir, options.secretBox);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const queue = new SerialQueue();
  const effectiveProxySettings = (): ProxySettings => ({ ...store.current.proxy, ...overrides });

  const accessLog = new AccessLog({
    dir: options.dataDir,
    settings: store.current.log,
    // Reported once per distinct failure (a full disk would otherwise repeat per request).
    onError: (error) => console.error(`gatehouse: the access log: ${error.message}`),
  });
  // Before the proxy starts: the log page should show the requests from before this restart.
  await accessLog.loadRecent();
  const logBatches = new LogBatches(
    () => hub.wants('log'),
    (entries) => hub.emit({ type: 'log', data: entries }),
  );
  // Traffic and up/down history on disk (docs/history.md): sampled every 10 s from the engine's counters.
  const recordHistory = options.history ?? process.env.GATEHOUSE_HISTORY !== 'off';
  const history = HistoryStore.open({
    dir: join(options.dataDir, 'history'),
    ...(options.historyClock ? { now: options.historyClock } : {}),
    drain: (visit) => engine.drainHistory(visit),
    health: () => health.snapshot(),
  });
  const historyHealth = new TrailingThrottle(() => history.observeHealth(health.snapshot()), HEALTH_EVENT_INTERVAL_MS);
  // Checked whether or not the proxy runs: the dashboard shows upstream health while it is stopped.
  const healthEvents = new TrailingThrottle(() => hub.emit({ type: 'health', data: health.snapshot() }), HEALTH_EVENT_INTERVAL_MS);
  const health: UpstreamHealth = new UpstreamHealth({
    onChange: () => {
      // Throttled: traffic can report changes from the request path (the 10 s sample notes them too).
      historyHealth.request();
      if (hub.wants('health')) healthEvents.request();
    },
    // Not throttled: each is one route's news, and they come at most once per check interval.
    onFailover: (event) => hub.emit({ type: 'failover', data: event }),
    inFlight: (address): number => engine.upstreamLoad(address)?.inFlight ?? 0,
  });
  // The request inspector's captures: memory only, for the routes in settings.insight.inspector.
  const inspector = new Inspector();
  const engine = new ProxyEngine({
    inspector,
    recordHistory,
    settings: effectiveProxySettings(),
    onRequestLogged: (entry, req) => {
      accessLog.write(entry, req);
      logBatches.add(entry);
    },
    health,
    certificates,
    challenges,
    ownNetworks,
    passesFor: access.passesFor,
    connectionJudge: (rules) => access.rules.connectionJudge(rules),
    maxConnectionsPerClient: store.current.access.maxConnectionsPerClient,
    stickyKey,
    publicPages: onboardingPages(() => certificates.ca.info, (req) => admin.linkFor(req.headers.host)),
  });
  access.clientAddress.useTrustedProxies(() => engine.trustedProxies);
  /** Resolves when the certificates of the latest route list are issued (or have failed, as their state says). */
  let certificatesReady: Promise<void> = Promise.resolve();
  const setRoutes = (routes: Settings['routes']) => {
    // An import replaces the access settings with the routes: the passes are built from both.
    access.apply(store.current.access);
    engine.setConnectionLimit(store.current.access.maxConnectionsPerClient);
    engine.setRoutes(routes);
    inspector.configure(store.current.insight.inspector);
    health.setRoutes(routes);
    history.setRoutes(routes);
    history.observeHealth(health.snapshot());
    certificatesReady = certificates.setRoutes(routes);
  };
  setRoutes(store.current.routes);
  if (recordHistory) history.start();
  // The first handshakes should find the stored (or newly issued) certificates, not the fallback.
  await certificatesReady;

  const status = (): ProxyStatus => ({
    ...runner.snapshot(),
    routeCount: store.current.routes.length,
    lanAddresses: lanAddresses(),
    settingsNotice: store.notice,
    overrides: { ...overrides },
  });
  const emitStatus = () => {
    hub.emit({ type: 'status', data: status() });
    // Published names follow the proxy: announced while it runs, goodbyes when it stops.
    void discovery.refresh();
    // The onboarding page's address follows the listener.
    announceCertificates();
  };
  const onboardingReach = () => {
    const [http, lan] = [runner.snapshot().http, lanAddresses()];
    return { urls: onboardingUrls(http, lan), problem: onboardingProblem(http, lan) };
  };
  // TCP, UDP and FTP streams: they run with the proxy, and log, judge and announce like it.
  const streamRun = new StreamRun({
    engine: (deps) => new StreamManager(deps, { createFtpHandler }),
    streams: () => store.current.streams,
    bindAddress: () => effectiveProxySettings().bindAddress,
    connectionJudge: (rules) => access.rules.connectionJudge(rules),
    log: (entry) => {
      accessLog.write(entry);
      logBatches.add(entry);
    },
    certificateForRoute: (routeId) => certificates.certificateFor(routeId),
    fallbackCertificate: () => certificates.fallback(),
    detailsAllowed: (address) => detailAudience(effectiveProxySettings().errorDetails, ownNetworks)(address),
    proxyProtocolFrom: () => effectiveProxySettings().proxyProtocolFrom,
    // The same cap and exemptions as the HTTP listeners' (proxy/engine.ts), read live.
    connectionLimit: () => store.current.access.maxConnectionsPerClient,
    exemptFromConnectionLimit: (address) => ownNetworks.isOwnNetwork(address) || engine.trustedProxies.has(address),
    wanted: () => hub.wants('streams'),
    emit: (views) => hub.emit({ type: 'streams', data: views }),
  });
  const runner = new ProxyRunner(engine, emitStatus, streamRun);

  const discoveryEvents = new TrailingThrottle(() => hub.emit({ type: 'discovery', data: discovery.overview() }), DISCOVERY_EVENT_INTERVAL_MS);
  const discovery = new Discovery({
    routes: () => store.current.routes,
    proxyRunning: () => runner.snapshot().state === 'running',
    publishAddresses: () => publishAddresses(effectiveProxySettings().bindAddress),
    onChange: () => void (hub.wants('discovery') && discoveryEvents.request()),
    forcedOff: mdnsEnvironmentProblem('mdnsEnvironment' in options ? options.mdnsEnvironment : process.env.GATEHOUSE_MDNS),
    ...(options.mdnsInterface ? { interfaceAddress: options.mdnsInterface } : {}),
  });
  // Browsing starts with the gateway; names follow the proxy (published while it runs).
  await discovery.setEnabled(store.current.lan.mdns);

  let closing: Promise<void> | null = null;
  /** Runs a change after the ones before it; refused once close() has begun. */
  function change<T>(task: () => Promise<T>): Promise<T> {
    if (closing) return Promise.reject(new ApiError('conflict', 'Gatehouse is shutting down; make the change after it starts again.'));
    return queue.run(task);
  }

  const persist = (edit: (current: Settings) => Settings) => saveSettings(store, edit);
  const dnsProviderService = dnsProviders({
    current: () => store.current,
    persist,
    change,
    secrets,
    ...(dnsResolvers ? { resolvers: dnsResolvers } : {}),
    changed: announceCertificates,
  });
  const preflight = gatewayPreflight({
    current: () => store.current,
    acme,
    challenges,
    localAddresses: () => lanAddresses(),
    testDnsProvider: (input) => dnsProviderService.handlers.testDnsProvider(input),
    overrides: options.acmePreflight ?? preflightOverridesFor(dnsServer, challengePortOverride(process.env.GATEHOUSE_ACME_HTTP_PORT)),
  });

  /**
   * Hands the saved routes to the engine, the health checker and mDNS, and announces them. Resolves
   * once names no longer published have had their goodbyes.
   */
  function routesSaved(countChanged: boolean): Promise<void> {
    setRoutes(store.current.routes);
    hub.emit({ type: 'routes', data: structuredClone(store.current.routes) });
    if (countChanged) emitStatus();
    return discovery.refresh();
  }

  /** Persists a new route list, hands it to the engine, and announces it. */
  async function commitRoutes(routes: Settings['routes'], countChanged: boolean): Promise<void> {
    // A removed route's inspector entry goes in the same save (the schema refuses a dangling one).
    await persist((current) => ({ ...current, routes, insight: prunedInsight(current, routes) }));
    await routesSaved(countChanged);
    // A saved route answers with its certificate issued: addRoute resolves when HTTPS works.
    await certificatesReady;
  }

  const settings = settingsChanges({
    store,
    engine,
    accessLog,
    runner,
    hub,
    overrides,
    overridesChanged: () => emitStatus(),
    routesReplaced: () => void routesSaved(true),
    streamsReplaced: () => streamRun.apply(),
    lanChanged: () => discovery.setEnabled(store.current.lan.mdns),
  });

  // Backups: a restore writes the files, then everything that read them at start reads them again,
  // and the restored settings are applied like an import: no restart (docs/backup.md).
  const backups = backupService({
    dataDir: options.dataDir,
    current: () => store.current,
    secrets,
    change,
    persist,
    gatehouseVersion: packageVersion(),
    restored: async (restoredSettings) => {
      await certificates.reloadFromDisk(restoredSettings.routes);
      await acme.reload(restoredSettings.acme.accounts, restoredSettings.routes);
      await access.reloadSecrets();
      engine.useStickyKey(await loadStickyKey(options.dataDir));
      await settings.replaceAll(restoredSettings);
      await certificatesReady;
      announceCertificates();
    },
    ...(options.backups?.hourMs !== undefined ? { hourMs: options.backups.hourMs } : {}),
  });

  const handlers = {
    listRoutes: async () => structuredClone(store.current.routes),

    getRoute: async ({ id }) => structuredClone(findRoute(store.current.routes, id)),

    addRoute: (input) =>
      change(async () => {
        const routes = store.current.routes;
        const route = withPresetCheck(toRoute(newRouteId(routes), input));
        assertPublishable(route);
        assertAccessReferences(route, store.current);
        assertNamesFree(routes, route);
        certificates.checkRoute(route);
        await commitRoutes([...routes, route], true);
        return structuredClone(route);
      }),

    updateRoute: ({ id, ...fields }) =>
      change(async () => {
        const routes = store.current.routes;
        const existing = findRoute(routes, id);
        const route = toRoute(id, fields);
        assertStreamsKeepCertificate(existing, route, store.current.streams);
        assertPublishable(route);
        assertAccessReferences(route, store.current);
        assertNamesFree(routes, route);
        certificates.checkRoute(route);
        await commitRoutes(
          routes.map((existing) => (existing.id === id ? route : existing)),
          false,
        );
        return structuredClone(route);
      }),

    setUpstreamDrained: ({ id, url, drained }) =>
      change(async () => {
        const routes = store.current.routes;
        const existing = findRoute(routes, id);
        if (!existing.upstreams.some((target) => target.url === url)) {
          throw new ApiError('not_found', `${url} is not an upstream of this route; its upstreams are ${existing.upstreams.map((target) => target.url).join(', ')}.`);
        }
        const route = { ...existing, upstreams: existing.upstreams.map((target) => (target.url === url ? { ...target, drained } : target)) };
        await commitRoutes(
          routes.map((other) => (other.id === id ? route : other)),
          false,
        );
        return structuredClone(route);
      }),

    removeRoute: ({ id }) =>
      change(async () => {
        const routes = store.current.routes;
        const removed = findRoute(routes, id);
        assertStreamsKeepCertificate(removed, null, store.current.streams);
        await commitRoutes(
          routes.filter((existing) => existing.id !== id),
          true,
        );
        return { removed: structuredClone(removed) };
      }),

    getStatus: async () => status(),

    startProxy: () =>
      change(async () => {
        await runner.start();
        await discovery.refresh();
        return status();
      }),

    stopProxy: () =>
      change(async () => {
        await runner.stop();
        // Resolves after the goodbyes for the names that pointed at the proxy.
        await discovery.refresh();
        return status();
      }),

    getStats: async () => engine.stats(),

    recentLog: async ({ limit }) => accessLog.recent(limit),

    getSettings: async () => generalSettings(store.current),

    updateSettings: (patch) => change(() => settings.update(patch)),

    // Queued with the changes: a check binds the port for a moment, and must not hold it while a
    // settings change or an import moves the proxy onto it; it also sees the listener as it is then.
    checkPorts: ({ httpPort, httpsPort, bindAddress, streams: withStreams }) =>
      change(async () => {
        const { http, https } = runner.snapshot();
        const ownListeners = [http, https].filter((listener) => listener !== null);
        const address = bindAddress ?? effectiveProxySettings().bindAddress;
        const streams = store.current.streams;
        const checks = await checkPorts({ httpPort, httpsPort, address, ownListeners, streams });
        if (!withStreams) return checks;
        // A stream listening now holds its ports: they are ours, like the proxy's (ownProxy).
        const statuses = streamRun.status(streams);
        const listening = new Set(statuses.filter((status) => status.state === 'listening').map((status) => status.streamId));
        const streamChecks = await checkStreamPorts({
          streams,
          address,
          ownAddress: streamRun.running ? effectiveProxySettings().bindAddress : null,
          listening: (stream) => listening.has(stream.id),
        });
        return [...checks, ...streamChecks];
      }),

    getHealth: async () => health.snapshot(),

    exportSettings: async () => exportSettings(store.current, packageVersion()),

    previewImport: async ({ document }) => {
      const imported = readImport(document);
      assertImportPublishable(imported.settings.routes, document);
      return { ...previewImport(store.current, imported), warnings: httpsWarnings(certificates, imported.settings.routes) };
    },

    importSettings: ({ document }) =>
      change(async () => {
        const result = await settings.importFile(document);
        // Like addRoute, the answer comes once the imported routes' certificates are issued.
        await certificatesReady;
        return result;
      }),

    ...certificateHandlers({
      certificates,
      acme: acmeView,
      routes: () => store.current.routes,
      change,
      onboardingReach,
      ...(options.trustEnvironment ? { trustEnvironment: options.trustEnvironment } : {}),
      // After a change made through the API the page should not wait for the throttle.
      announce: () => {
        certificateEvents.cancel();
        if (hub.wants('certificates')) emitCertificates();
      },
    }),

    ...acmeHandlers({
      acme,
      current: () => store.current,
      persist,
      change,
      secretsStoredIn: secrets.storedIn,
      ...acmeExtensions,
      announce: () => {
        certificateEvents.cancel();
        if (hub.wants('certificates')) emitCertificates();
      },
    }),

    ...dnsProviderService.handlers,

    // Saved, then applied live: only the stream that changed rebinds; the answer shows it bound or failed.
    ...streamHandlers({
      current: () => store.current,
      persist,
      change,
      status: (streams) => streamRun.status(streams),
      applied: () => streamRun.apply(),
      ownPorts: () => {
        const { httpPort, httpsPort } = effectiveProxySettings();
        return [
          { transport: 'tcp', from: httpPort, to: httpPort, owner: "the proxy's HTTP port" },
          { transport: 'tcp', from: httpsPort, to: httpsPort, owner: "the proxy's HTTPS port" },
        ];
      },
    }),

    ...discoveryHandlers({ discovery }),

    // Issue 17 (insight): history, log search, the route doctor, the request inspector, backups, moving in from NPM.
    ...historyHandlers({ history }),

    ...logSearchHandlers({ file: accessLog.file, flush: () => accessLog.flush() }),

    ...doctorHandlers({
      current: () => store.current,
      dns: {
        publicResolvers: options.acmePreflight?.publicResolvers ?? dnsServer?.resolvers ?? DEFAULT_PUBLIC_RESOLVERS,
        ...(options.acmePreflight?.systemLookup ? { systemLookup: options.acmePreflight.systemLookup } : {}),
        lanAddresses: () => lanAddresses(),
        discovery: () => discovery.overview(),
      },
      port: {
        proxy: () => runner.snapshot(),
        bindAddress: () => effectiveProxySettings().bindAddress,
        httpPort: () => effectiveProxySettings().httpPort,
        httpsPort: () => effectiveProxySettings().httpsPort,
        lanAddresses: () => lanAddresses(),
      },
      certificate: {
        routeCertificate: (routeId) => certificates.routeCertificates().find((entry) => entry.routeId === routeId),
        localCaPem: () => certificates.ca.info.certificatePem,
        trustPlan: () => trustPlan({ info: certificates.ca.info }, options.trustEnvironment),
      },
      upstream: { health: () => health.snapshot() },
      access: { verdict: (route, address) => access.rules.verdict(route, address) },
    }),

    ...inspectorHandlers({ inspector, current: () => store.current, persist, change, listeners: () => runner.snapshot(), routeFor: (authority) => engine.routeIdFor(authority) }),

    ...backups.handlers,

    // Lazily: the import goes through this very table (addRoute, importCertificate…), every check included.
    ...npmImportHandlers({ handlers: (): ApiHandlers => handlers }),

    ...accessHandlers({
      access,
      current: () => store.current,
      persist,
      change,
      applied: () => {
        access.apply(store.current.access);
        engine.setConnectionLimit(store.current.access.maxConnectionsPerClient);
        engine.refreshPasses();
        accessEvents.cancel();
        if (hub.wants('access')) hub.emit({ type: 'access', data: access.overview() });
      },
    }),

    getAppInfo: async () => ({
      version: packageVersion(),
      shell: options.shell ?? 'headless',
      platform: process.platform,
      canStartAtLogin: options.canStartAtLogin ?? false,
    }),
  } satisfies ApiHandlers;

  async function close(): Promise<void> {
    try {
      await backups.close();
      await queue.run(() => runner.stop());
    } finally {
      // Goodbyes for every published name are sent before close resolves.
      await discovery.close();
      discoveryEvents.cancel();
      try {
        await store.flush();
      } finally {
        await streamRun.close();
        // After the proxy stopped: the last requests' counts are in the bucket it writes.
        historyHealth.cancel();
        history.close();
        health.close();
        healthEvents.cancel();
        accessEvents.cancel();
        await access.close();
        acme.close();
        certificates.close();
        admin.close();
        certificateEvents.cancel();
        logBatches.close();
        await accessLog.close();
        hub.clear();
        await lock.release();
      }
    }
  }

  await backups.start();

  return {
    dataDir: options.dataDir,
    admin,
    handlers,
    subscribe: (listener, only) => hub.subscribe(listener, only),
    async startup() {
      if (!store.current.proxy.startOnLaunch) return;
      try {
        await handlers.startProxy();
      } catch (error) {
        // The status carries the Problem; an unexpected failure is a bug worth a trace for the developer.
        if (!(error instanceof ApiError)) console.error('gatehouse: the proxy failed to start:', error);
      }
    },
    close: () => (closing ??= close()),
  };
}
