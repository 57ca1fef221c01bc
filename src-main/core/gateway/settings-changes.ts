// Saving the settings file, changing the general settings, and importing a settings file: check,
// persist, then apply to the running proxy and the access log and announce it, moving the listener
// when its port or address changed. The gateway runs these through its change queue; this module
// holds what they do.
import { ZodError } from 'zod';
import { ApiError, invalidInput, type ApiParsedInput, type ApiResults } from '../../../shared/api.js';
import { applySettingsPatch, GeneralSettingsSchema, type GeneralSettings, type ProxySettings, type Settings } from '../../../shared/model.js';
import type { AccessLog } from '../proxy/access-log.js';
import type { ProxyEngine } from '../proxy/engine.js';
import { SettingsReadOnlyError, type SettingsStore } from '../settings/store.js';
import type { EventHub } from './event-hub.js';
import type { ProxyRunner } from './proxy-runner.js';
import { assertImportPublishable } from './route-edits.js';
import { keepCopyBeforeImport, readImport } from './settings-transfer.js';

export const LISTENER_FIELDS = ['httpPort', 'httpsPort', 'bindAddress'] as const;
/** Fields whose change moves a running listener. */
const RESTART_FIELDS = ['httpPort', 'httpsPort', 'bindAddress'] as const;

/** Listener settings for this run only (`gatehouse serve --http-port …`), never saved. */
export type ListenerOverrides = Partial<Pick<ProxySettings, (typeof LISTENER_FIELDS)[number]>>;

/**
 * Persists an edit of the settings. A result the schema rejects becomes `invalid_input` naming the
 * field; a failed write becomes `internal` saying nothing was changed.
 */
export async function saveSettings(store: SettingsStore, edit: (current: Settings) => Settings): Promise<Settings> {
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

/** Every setting but the routes, as a copy the caller may keep. */
export function generalSettings(settings: Settings): GeneralSettings {
  return structuredClone({ proxy: settings.proxy, admin: settings.admin, log: settings.log, app: settings.app, lan: settings.lan });
}

export interface SettingsChangeDeps {
  store: SettingsStore;
  engine: Pick<ProxyEngine, 'applySettings'>;
  accessLog: Pick<AccessLog, 'configure'>;
  runner: Pick<ProxyRunner, 'snapshot' | 'start' | 'stop'>;
  hub: EventHub;
  /** This run's overrides; a saved change to one of these fields removes its override (the user's latest word wins). */
  overrides: ListenerOverrides;
  /** Announces the status: it lists this run's overrides, and a saved field drops its own. */
  overridesChanged: () => void;
  /** Hands the saved routes to the engine and the health checker, and announces them and the status. */
  routesReplaced: () => void;
  /** Applies the saved streams to the running stream engine (resolves once each is bound or failed). */
  streamsReplaced: () => Promise<void>;
  /**
   * Applies the saved settings to mDNS (lan.mdns on or off, the listen address names answer with);
   * resolves once goodbyes for names no longer published are sent.
   */
  lanChanged: () => Promise<void>;
}

export interface SettingsChanges {
  update(patch: ApiParsedInput<'updateSettings'>): Promise<GeneralSettings>;
  importFile(document: unknown): Promise<ApiResults['importSettings']>;
  /** Stores and applies a whole settings file that was already checked (a restore); this run's overrides still hold. */
  replaceAll(settings: Settings): Promise<void>;
}

export function settingsChanges(deps: SettingsChangeDeps): SettingsChanges {
  const { store, overrides } = deps;
  const effectiveProxySettings = (): ProxySettings => ({ ...store.current.proxy, ...overrides });

  /**
   * Hands the saved general settings to the engine and the access log and announces them. The
   * engine binds a changed port or address at its next start, so a running listener is moved now;
   * a start that failed on the old port is retried, since the change is likely its fix. `saved`
   * starts the message when the move fails ("The settings were").
   */
  async function applySaved(before: ProxySettings, saved: string): Promise<GeneralSettings> {
    const after = effectiveProxySettings();
    deps.engine.applySettings(after);
    deps.accessLog.configure(store.current.log);
    const general = generalSettings(store.current);
    deps.hub.emit({ type: 'settings', data: structuredClone(general) });
    await deps.lanChanged();
    const state = deps.runner.snapshot().state;
    if ((state === 'running' || state === 'failed') && RESTART_FIELDS.some((field) => before[field] !== after[field])) {
      // The streams keep their connections: the start applies them on the (maybe new) address.
      await deps.runner.stop({ keepStreams: true });
      try {
        await deps.runner.start();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const reason = error.message.charAt(0).toLowerCase() + error.message.slice(1);
        throw new ApiError('port_unavailable', `${saved} saved, but ${reason}`, error.details);
      }
    }
    return general;
  }

  return {
    async update(patch) {
      const parsed = GeneralSettingsSchema.safeParse(applySettingsPatch(generalSettings(store.current), patch));
      if (!parsed.success) throw invalidInput(parsed.error);
      const before = effectiveProxySettings();
      await saveSettings(store, (current) => ({ ...current, ...parsed.data }));
      const dropped = LISTENER_FIELDS.filter((field) => patch.proxy?.[field] !== undefined && field in overrides);
      for (const field of dropped) delete overrides[field];
      const general = await applySaved(before, 'The settings were');
      if (dropped.length > 0) deps.overridesChanged();
      return general;
    },

    // Everything is replaced, but this run's command-line overrides (--http-port …) still hold:
    // they are not settings, and the listener moves only if what it actually uses changed.
    async importFile(document) {
      const imported = readImport(document);
      assertImportPublishable(imported.settings.routes, document);
      const before = effectiveProxySettings();
      // A file from a newer Gatehouse is refused before the copy is kept, so nothing is left behind.
      try {
        store.assertWritable();
      } catch (error) {
        throw error instanceof SettingsReadOnlyError ? new ApiError('conflict', error.message) : error;
      }
      try {
        await keepCopyBeforeImport(store.path);
      } catch (error) {
        console.error(`gatehouse: keeping a copy of ${store.path} before an import failed:`, error);
        throw new ApiError('internal', `Gatehouse could not keep a copy of ${store.path} (${(error as Error).message}), so nothing was imported.`);
      }
      const settings = await replace(imported.settings, before, 'The import was');
      return { settings, routes: structuredClone(store.current.routes) };
    },

    async replaceAll(settings) {
      try {
        store.assertWritable();
      } catch (error) {
        throw error instanceof SettingsReadOnlyError ? new ApiError('conflict', error.message) : error;
      }
      await replace(settings, effectiveProxySettings(), 'The restore was');
    },
  };

  /** Stores `settings` whole, then applies them like a general change (routes, streams, listeners, mDNS). */
  async function replace(settings: Settings, before: ProxySettings, saved: string): Promise<GeneralSettings> {
    await saveSettings(store, () => settings);
    deps.routesReplaced();
    // Live, like a change through the stream endpoints: only streams that differ rebind.
    await deps.streamsReplaced();
    return applySaved(before, saved);
  }
}
