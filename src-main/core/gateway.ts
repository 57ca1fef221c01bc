// The composition root: builds the settings store, the proxy engine and the access log from the data
// directory, and implements every member of the API contract over them. Both transports (Electron
// IPC and `gatehouse serve`) carry exactly these handlers, so behaviour lives here, once.
//
// Every change follows one order: check it against the current settings, persist it (durable when
// the store resolves), apply it to the running engine, then tell subscribers. A crash between any
// two steps therefore loses nothing that was acknowledged, and what the engine runs was saved first.
import { z, ZodError } from 'zod';
import { ApiError, invalidInput, type ApiEvent, type ApiEventName, type ApiHandlers } from '../../shared/api.js';
import {
  applySettingsPatch,
  GeneralSettingsSchema,
  IpAddressSchema,
  PortSchema,
  type GeneralSettings,
  type ProxySettings,
  type Settings,
} from '../../shared/model.js';
import type { AppInfo, ProxyStatus } from '../../shared/status.js';
import { EventHub } from './gateway/event-hub.js';
import { LogBatches } from './gateway/log-batches.js';
import { checkPorts } from './gateway/port-check.js';
import { ProxyRunner } from './gateway/proxy-runner.js';
import { assertNamesFree, findRoute, newRouteId, toRoute } from './gateway/route-edits.js';
import { SerialQueue } from './gateway/serial-queue.js';
import { TrailingThrottle } from './gateway/trailing-throttle.js';
import { exportSettings, keepCopyBeforeImport, previewImport, readImport } from './gateway/settings-transfer.js';
import { lockDataDir } from './data-dir-lock.js';
import { lanAddresses } from './net/lan-addresses.js';
import { packageVersion } from './package-root.js';
import { AccessLog } from './proxy/access-log.js';
import { ProxyEngine } from './proxy/engine.js';
import { UpstreamHealth } from './proxy/health.js';
import { SettingsReadOnlyError, SettingsStore } from './settings/store.js';

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
}

export interface Gateway {
  readonly dataDir: string;
  /** Every API member; inputs must already be validated with `parseInput`. */
  handlers: ApiHandlers;
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

const LISTENER_FIELDS = ['httpPort', 'httpsPort', 'bindAddress'] as const;
/** Fields whose change moves a running listener. httpsPort joins once the HTTPS listener exists. */
const RESTART_FIELDS = ['httpPort', 'bindAddress'] as const;

function generalSettings(settings: Settings): GeneralSettings {
  return structuredClone({ proxy: settings.proxy, admin: settings.admin, log: settings.log, app: settings.app });
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const parsedOverrides = OverridesSchema.safeParse(options.overrides ?? {});
  if (!parsedOverrides.success) throw invalidInput(parsedOverrides.error);
  // Only fields actually given: a key holding undefined would erase the saved value when spread.
  const overrides: GatewayOverrides = Object.fromEntries(Object.entries(parsedOverrides.data).filter(([, value]) => value !== undefined));

  const lock = await lockDataDir(options.dataDir);
  let store: SettingsStore;
  try {
    store = await SettingsStore.open(options.dataDir);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const hub = new EventHub();
  const queue = new SerialQueue();
  const effectiveProxySettings = (): ProxySettings => ({ ...store.current.proxy, ...overrides });

  const accessLog = new AccessLog({
    dir: options.dataDir,
    settings: store.current.log,
    // Reported once per distinct failure (a full disk would otherwise repeat per request).
    onError: (error) => console.error(`gatehouse: writing the access log failed: ${error.message}`),
  });
  const logBatches = new LogBatches(
    () => hub.wants('log'),
    (entries) => hub.emit({ type: 'log', data: entries }),
  );
  // Checked whether or not the proxy runs: the dashboard shows upstream health while it is stopped.
  const healthEvents = new TrailingThrottle(() => hub.emit({ type: 'health', data: health.snapshot() }), HEALTH_EVENT_INTERVAL_MS);
  const health = new UpstreamHealth({ onChange: () => void (hub.wants('health') && healthEvents.request()) });
  const engine = new ProxyEngine({
    settings: effectiveProxySettings(),
    onRequestLogged: (entry) => {
      accessLog.write(entry);
      logBatches.add(entry);
    },
    health,
  });
  const setRoutes = (routes: Settings['routes']) => {
    engine.setRoutes(routes);
    health.setRoutes(routes);
  };
  setRoutes(store.current.routes);

  const status = (): ProxyStatus => ({
    ...runner.snapshot(),
    routeCount: store.current.routes.length,
    lanAddresses: lanAddresses(),
    settingsNotice: store.notice,
  });
  const emitStatus = () => hub.emit({ type: 'status', data: status() });
  const runner = new ProxyRunner(engine, emitStatus);

  let closing: Promise<void> | null = null;
  /** Runs a change after the ones before it; refused once close() has begun. */
  function change<T>(task: () => Promise<T>): Promise<T> {
    if (closing) return Promise.reject(new ApiError('conflict', 'Gatehouse is shutting down; make the change after it starts again.'));
    return queue.run(task);
  }

  /** Persists a change; a settings file the schema rejects becomes `invalid_input` naming the field. */
  async function persist(edit: (current: Settings) => Settings): Promise<Settings> {
    try {
      return await store.update((draft) => edit(draft));
    } catch (error) {
      if (error instanceof ZodError) throw invalidInput(error);
      if (error instanceof ApiError) throw error;
      // The file belongs to a newer Gatehouse: its message says so and what to do.
      if (error instanceof SettingsReadOnlyError) throw new ApiError('conflict', error.message);
      const detail = (error as NodeJS.ErrnoException).code ? `: ${(error as Error).message}` : '';
      console.error(`gatehouse: saving ${store.path} failed:`, error);
      throw new ApiError('internal', `Gatehouse could not save its settings to ${store.path}${detail}. Nothing was changed.`);
    }
  }

  /** Persists a new route list, hands it to the engine, and announces it. */
  async function commitRoutes(routes: Settings['routes'], countChanged: boolean): Promise<void> {
    await persist((current) => ({ ...current, routes }));
    setRoutes(store.current.routes);
    hub.emit({ type: 'routes', data: structuredClone(store.current.routes) });
    if (countChanged) emitStatus();
  }

  /**
   * Hands the saved general settings to the engine and the access log and announces them. The
   * engine binds a changed port or address at its next start, so a running listener is moved now;
   * a start that failed on the old port is retried, since the change is likely its fix. `saved`
   * starts the message when the move fails ("The settings were").
   */
  async function applySavedSettings(before: ProxySettings, saved: string): Promise<GeneralSettings> {
    const after = effectiveProxySettings();
    engine.applySettings(after);
    accessLog.configure(store.current.log);
    const general = generalSettings(store.current);
    hub.emit({ type: 'settings', data: structuredClone(general) });
    const state = runner.snapshot().state;
    if ((state === 'running' || state === 'failed') && RESTART_FIELDS.some((field) => before[field] !== after[field])) {
      await runner.stop();
      try {
        await runner.start();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const reason = error.message.charAt(0).toLowerCase() + error.message.slice(1);
        throw new ApiError('port_unavailable', `${saved} saved, but ${reason}`, error.details);
      }
    }
    return general;
  }

  const handlers = {
    listRoutes: async () => structuredClone(store.current.routes),

    getRoute: async ({ id }) => structuredClone(findRoute(store.current.routes, id)),

    addRoute: (input) =>
      change(async () => {
        const routes = store.current.routes;
        const route = toRoute(newRouteId(routes), input);
        assertNamesFree(routes, route);
        await commitRoutes([...routes, route], true);
        return structuredClone(route);
      }),

    updateRoute: ({ id, ...fields }) =>
      change(async () => {
        const routes = store.current.routes;
        findRoute(routes, id);
        const route = toRoute(id, fields);
        assertNamesFree(routes, route);
        await commitRoutes(
          routes.map((existing) => (existing.id === id ? route : existing)),
          false,
        );
        return structuredClone(route);
      }),

    removeRoute: ({ id }) =>
      change(async () => {
        const routes = store.current.routes;
        const removed = findRoute(routes, id);
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
        return status();
      }),

    stopProxy: () =>
      change(async () => {
        await runner.stop();
        return status();
      }),

    getStats: async () => engine.stats(),

    recentLog: async ({ limit }) => accessLog.recent(limit),

    getSettings: async () => generalSettings(store.current),

    updateSettings: (patch) =>
      change(async () => {
        const parsed = GeneralSettingsSchema.safeParse(applySettingsPatch(generalSettings(store.current), patch));
        if (!parsed.success) throw invalidInput(parsed.error);
        const before = effectiveProxySettings();
        await persist((current) => ({ ...current, ...parsed.data }));
        for (const field of LISTENER_FIELDS) if (patch.proxy?.[field] !== undefined) delete overrides[field];
        return applySavedSettings(before, 'The settings were');
      }),

    // Queued with the changes: a check binds the port for a moment, and must not hold it while a
    // settings change or an import moves the proxy onto it; it also sees the listener as it is then.
    checkPorts: ({ httpPort, httpsPort, bindAddress }) =>
      change(() => checkPorts({ httpPort, httpsPort, address: bindAddress ?? store.current.proxy.bindAddress, ownListener: runner.snapshot().http })),

    getHealth: async () => health.snapshot(),

    exportSettings: async () => exportSettings(store.current, packageVersion()),

    previewImport: async ({ document }) => previewImport(store.current, readImport(document)),

    // Everything is replaced, but this run's command-line overrides (--http-port …) still hold:
    // they are not settings, and the listener moves only if what it actually uses changed.
    importSettings: ({ document }) =>
      change(async () => {
        const imported = readImport(document);
        const before = effectiveProxySettings();
        try {
          await keepCopyBeforeImport(store.path);
        } catch (error) {
          console.error(`gatehouse: keeping a copy of ${store.path} before an import failed:`, error);
          throw new ApiError('internal', `Gatehouse could not keep a copy of ${store.path} (${(error as Error).message}), so nothing was imported.`);
        }
        await persist(() => imported.settings);
        setRoutes(store.current.routes);
        hub.emit({ type: 'routes', data: structuredClone(store.current.routes) });
        emitStatus();
        const settings = await applySavedSettings(before, 'The import was');
        return { settings, routes: structuredClone(store.current.routes) };
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
      await queue.run(() => runner.stop());
    } finally {
      try {
        await store.flush();
      } finally {
        health.close();
        healthEvents.cancel();
        logBatches.close();
        await accessLog.close();
        hub.clear();
        await lock.release();
      }
    }
  }

  return {
    dataDir: options.dataDir,
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
