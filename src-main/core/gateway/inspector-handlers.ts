// The request inspector's API (docs/inspector.md): which routes are inspected is saved in
// settings.insight.inspector; the captures live in memory only (insight/inspector.ts) and are
// returned with secrets masked. A replay sends a captured request again to the proxy's own
// listener (insight/inspector-replay.ts), so it takes the route's whole path once more.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { InspectorEntry } from '../../../shared/insight.js';
import type { Settings } from '../../../shared/model.js';
import type { ListenerInfo } from '../../../shared/status.js';
import { DEFAULT_BODY_BYTES, DEFAULT_KEEP, type Inspector } from '../insight/inspector.js';
import { replayCapture } from '../insight/inspector-replay.js';

type Members = 'getInspector' | 'setInspector' | 'clearInspector' | 'replayRequest';

export interface InspectorHandlerDeps {
  inspector: Inspector;
  current: () => Settings;
  /** Saves an edit of the settings. */
  persist: (edit: (current: Settings) => Settings) => Promise<Settings>;
  /** Runs a change after the ones before it. */
  change: <T>(task: () => Promise<T>) => Promise<T>;
  /** The proxy's listeners while it runs (both null when stopped). */
  listeners: () => { http: ListenerInfo | null; https: ListenerInfo | null };
  /** The id of the route that answers requests for an authority (host[:port]) now, or null. */
  routeFor: (authority: string) => string | null;
}

/** The insight section with only the inspector entries of `routes` (a removed route's goes in the same save). */
export function prunedInsight(settings: Settings, routes: Settings['routes']): Settings['insight'] {
  const ids = new Set(routes.map((route) => route.id));
  const inspector = settings.insight.inspector.filter((entry) => ids.has(entry.routeId));
  return inspector.length === settings.insight.inspector.length ? settings.insight : { ...settings.insight, inspector };
}

export function inspectorHandlers(deps: InspectorHandlerDeps): Pick<ApiHandlers, Members> {
  const { inspector, current, persist, change } = deps;
  const routeOf = (routeId: string) => {
    const route = current().routes.find((candidate) => candidate.id === routeId);
    if (!route) throw new ApiError('not_found', `There is no route "${routeId}"; it may have been removed.`);
    return route;
  };

  return {
    getInspector: async ({ routeId }) => {
      routeOf(routeId);
      return inspector.view(routeId);
    },

    setInspector: ({ routeId, enabled, keep, bodyBytes }) =>
      change(async () => {
        routeOf(routeId);
        const saved = current().insight.inspector;
        const existing = saved.find((entry) => entry.routeId === routeId);
        let entries: InspectorEntry[];
        if (enabled) {
          const entry: InspectorEntry = { routeId, keep: keep ?? existing?.keep ?? DEFAULT_KEEP, bodyBytes: bodyBytes ?? existing?.bodyBytes ?? DEFAULT_BODY_BYTES };
          entries = existing ? saved.map((other) => (other.routeId === routeId ? entry : other)) : [...saved, entry];
        } else {
          entries = saved.filter((entry) => entry.routeId !== routeId);
        }
        await persist((settings) => ({ ...settings, insight: { ...settings.insight, inspector: entries } }));
        inspector.configure(current().insight.inspector);
        return inspector.view(routeId);
      }),

    clearInspector: async ({ routeId }) => {
      routeOf(routeId);
      inspector.clear(routeId);
      return inspector.view(routeId);
    },

    replayRequest: async ({ routeId, captureId }) => {
      routeOf(routeId);
      if (!current().insight.inspector.some((entry) => entry.routeId === routeId)) {
        throw new ApiError('conflict', 'The request inspector is off for this route: turn it on to capture and replay requests.');
      }
      const capture = inspector.capture(routeId, captureId);
      if (!capture) throw new ApiError('not_found', `There is no captured request "${captureId}" any more: newer requests may have pushed it out, or the captures were cleared.`);
      const why = capture.notReplayable;
      if (why) throw new ApiError('conflict', `This request cannot be replayed. ${why}`);
      // The capture's Host must still lead to this route: after a rename another route may own the
      // name, and the captured credentials must never be delivered to that route's upstream.
      const owner = deps.routeFor(capture.host);
      if (owner !== routeId) {
        const now = owner === null ? 'no route answers that name now' : `another route ("${current().routes.find((route) => route.id === owner)?.title || owner}") answers that name now`;
        throw new ApiError('conflict', `This request was sent to ${capture.host}, but ${now}, so it was not replayed (nothing was sent). Give the route that name again to replay it.`);
      }
      const { http, https } = deps.listeners();
      if (http === null) throw new ApiError('conflict', 'The proxy is stopped: start it to replay a request through the route.');
      if (capture.secure && https === null) throw new ApiError('conflict', 'This request came over HTTPS, and the proxy has no HTTPS listener now: start it with HTTPS to replay it.');
      const replayed = await replayCapture(inspector, capture, capture.secure ? { listener: https as ListenerInfo, tls: true } : { listener: http, tls: false });
      return { capture: replayed.view() };
    },
  };
}
