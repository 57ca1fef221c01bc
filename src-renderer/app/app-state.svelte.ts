// The state every page shares: the proxy's status, the routes, their health, the settings and what
// this shell can do. Loaded once, kept live by events, and read again in full after the event stream
// reconnects (events may have been missed). Pages read it through context (app-context.ts); only
// controllers talk to the API.
import type { ApiClient, ApiError } from '../../shared/api.js';
import type { GeneralSettings, Route, RouteInput, SettingsPatch } from '../../shared/model.js';
import type { AppInfo, FailoverEvent, ProxyStatus, RouteHealth } from '../../shared/status.js';
import type { Stream, StreamInput, StreamView } from '../../shared/streams.js';
import type { RouteDraft } from '../discovery/map-it.js';
import { routeLabel } from '../format.js';
import { asApiError } from './errors.js';
import { Notices } from './notices.svelte.js';

export type ProxyAction = 'start' | 'stop';

type LiveKey = 'status' | 'routes' | 'health' | 'settings' | 'streams';

/** The fields of a stored route that re-create it: what Undo sends back to addRoute. */
export function routeInputOf(route: Route): RouteInput {
  const { id: _id, title, ...fields } = route;
  return title === undefined ? fields : { title, ...fields };
}

/** The fields of a stored stream that re-create it: what Undo sends back to addStream. */
export function streamInputOf(stream: Stream): StreamInput {
  const { id: _id, ...fields } = stream;
  return fields;
}

/** The notice for a failover event: what changed, and why. */
export function failoverMessage(event: FailoverEvent): string {
  switch (event.kind) {
    case 'failed_over':
      return `${event.title} failed over${event.from ? ` from ${event.from}` : ''} to ${event.to}: ${event.reason}`;
    case 'recovered':
      return `${event.title} is back on ${event.to ?? 'its first server'}`;
    case 'no_upstream':
      return `${event.title} has no server available: ${event.reason}`;
  }
}

export class AppState {
  /** Null until the first answer arrives. */
  status = $state.raw<ProxyStatus | null>(null);
  routes = $state.raw<Route[]>([]);
  health = $state.raw<RouteHealth[]>([]);
  /** TCP, UDP and FTP streams with their state and counters, in settings order. */
  streams = $state.raw<StreamView[]>([]);
  settings = $state.raw<GeneralSettings | null>(null);
  appInfo = $state.raw<AppInfo | null>(null);
  /** True once everything was read at least once. */
  loaded = $state(false);
  /** The proxy action the user asked for that has not been answered yet. */
  pendingProxyAction = $state<ProxyAction | null>(null);
  /** What went wrong with the last load or shell-wide action (start, stop, delete, undo); null once one succeeds. */
  error = $state.raw<ApiError | null>(null);

  healthByRoute = $derived(new Map(this.health.map((entry) => [entry.routeId, entry])));

  /** What the proxy button does now; null while the proxy is changing state or the page is loading. */
  nextProxyAction = $derived.by((): ProxyAction | null => {
    if (this.pendingProxyAction !== null) return null;
    if (this.status?.state === 'running') return 'stop';
    if (this.status?.state === 'stopped' || this.status?.state === 'failed') return 'start';
    return null;
  });

  readonly api: ApiClient;
  readonly notices: Notices;
  readonly #reloadListeners = new Set<() => void>();
  /** What "Map it" proposed, waiting for the Add route page to take it. */
  #routeDraft: RouteDraft | null = null;
  /**
   * Counts the events of each kind. A full read that started before an event arrived carries older
   * data than the event, so it must not overwrite what the event brought.
   */
  readonly #eventCounts: Record<LiveKey, number> = { status: 0, routes: 0, health: 0, settings: 0, streams: 0 };

  constructor(api: ApiClient, notices = new Notices()) {
    this.api = api;
    this.notices = notices;
  }

  /** Subscribes to events, then loads everything; returns the function that stops listening. */
  connect(): () => void {
    const stops = [
      this.api.on('status', (status) => this.#fromEvent('status', () => (this.status = status))),
      this.api.on('routes', (routes) => this.#fromEvent('routes', () => (this.routes = routes))),
      this.api.on('health', (health) => this.#fromEvent('health', () => (this.health = health))),
      this.api.on('settings', (settings) => this.#fromEvent('settings', () => (this.settings = settings))),
      this.api.on('streams', (streams) => this.#fromEvent('streams', () => (this.streams = streams))),
      // A failover is news wherever the person is: a brief notice (the dashboard shows the detail).
      this.api.on('failover', (event) => this.notices.announce(failoverMessage(event))),
    ];
    void this.reload();
    return () => stops.forEach((stop) => stop());
  }

  #fromEvent(key: LiveKey, apply: () => void): void {
    this.#eventCounts[key] += 1;
    apply();
  }

  /**
   * Reads everything again: at start, and after live updates were interrupted. Each part is
   * applied on its own, so one failing read (say, an older core without getHealth) does not keep
   * the rest of the page empty; the first failure is shown.
   */
  async reload(): Promise<void> {
    const before = { ...this.#eventCounts };
    const fresh = (key: LiveKey) => this.#eventCounts[key] === before[key];
    const [status, routes, health, settings, appInfo, streams] = await Promise.allSettled([
      this.api.getStatus(),
      this.api.listRoutes(),
      this.api.getHealth(),
      this.api.getSettings(),
      this.api.getAppInfo(),
      this.api.listStreams(),
    ]);
    if (status.status === 'fulfilled' && fresh('status')) this.status = status.value;
    if (routes.status === 'fulfilled' && fresh('routes')) this.routes = routes.value;
    if (health.status === 'fulfilled' && fresh('health')) this.health = health.value;
    if (settings.status === 'fulfilled' && fresh('settings')) this.settings = settings.value;
    if (appInfo.status === 'fulfilled') this.appInfo = appInfo.value;
    if (streams.status === 'fulfilled' && fresh('streams')) this.streams = streams.value;
    const failure = [status, routes, health, settings, appInfo, streams].find((result) => result.status === 'rejected');
    this.error = failure ? asApiError(failure.reason) : null;
    // The dashboard and forms need the proxy and the routes; the rest fills in when it can.
    if (status.status === 'fulfilled' && routes.status === 'fulfilled') this.loaded = true;
  }

  /** The event stream came back after a drop: read everything again, and let pages read theirs. */
  async reconnected(): Promise<void> {
    await this.reload();
    for (const listener of [...this.#reloadListeners]) listener();
  }

  /** Pages with data of their own (the log) register here to re-read it after a reconnect. */
  onReconnect(listener: () => void): () => void {
    this.#reloadListeners.add(listener);
    return () => this.#reloadListeners.delete(listener);
  }

  /** Hands a proposed route to the Add route page ("Map it"); the page takes it once. */
  offerRouteDraft(draft: RouteDraft): void {
    this.#routeDraft = draft;
  }

  /** The proposed route, once: a later visit to Add route starts empty. */
  takeRouteDraft(): RouteDraft | null {
    const draft = this.#routeDraft;
    this.#routeDraft = null;
    return draft;
  }

  routeById(id: string): Route | undefined {
    return this.routes.find((route) => route.id === id);
  }

  /** Starts or stops the proxy; does nothing while an earlier request is still on its way. */
  runProxyAction = async (action: ProxyAction): Promise<void> => {
    if (this.pendingProxyAction) return;
    this.pendingProxyAction = action;
    try {
      this.status = action === 'start' ? await this.api.startProxy() : await this.api.stopProxy();
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.pendingProxyAction = null;
    }
  };

  /**
   * A form saved `route`: show it at once. The `routes` event brings the same list a moment later;
   * this only spares the dashboard a frame without the new route.
   */
  routeSaved(route: Route): void {
    const index = this.routes.findIndex((existing) => existing.id === route.id);
    this.routes = index === -1 ? [...this.routes, route] : this.routes.with(index, route);
  }

  /** Deletes a route and offers Undo; true when it was deleted. */
  async removeRoute(route: Route): Promise<boolean> {
    try {
      const { removed } = await this.api.removeRoute({ id: route.id });
      this.routes = this.routes.filter((existing) => existing.id !== removed.id);
      this.error = null;
      this.notices.announce('Route deleted', { label: 'Undo', run: () => this.restoreRoute(removed) });
      return true;
    } catch (error) {
      this.error = asApiError(error);
      return false;
    }
  }

  /** Undo of a delete: the same fields as a new route (Gatehouse gives it a new id). */
  async restoreRoute(removed: Route): Promise<void> {
    try {
      this.routeSaved(await this.api.addRoute(routeInputOf(removed)));
      this.error = null;
      this.notices.announce(`Route restored: ${routeLabel(removed)}`);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  streamById(id: string): StreamView | undefined {
    return this.streams.find((view) => view.stream.id === id);
  }

  /** A form saved a stream: show it at once (the `streams` event brings the same a moment later). */
  streamSaved(view: StreamView): void {
    const index = this.streams.findIndex((existing) => existing.stream.id === view.stream.id);
    this.streams = index === -1 ? [...this.streams, view] : this.streams.with(index, view);
  }

  /** Turns a stream on or off (it keeps its settings); true when saved. */
  async setStreamEnabled(stream: Stream, enabled: boolean): Promise<boolean> {
    try {
      this.streamSaved(await this.api.updateStream({ ...stream, enabled }));
      this.error = null;
      this.notices.announce(`${stream.title} ${enabled ? 'enabled' : 'disabled'}`);
      return true;
    } catch (error) {
      this.error = asApiError(error);
      return false;
    }
  }

  /** Removes a stream and offers Undo; true when it was removed. */
  async removeStream(stream: Stream): Promise<boolean> {
    try {
      const { removed } = await this.api.removeStream({ id: stream.id });
      this.streams = this.streams.filter((existing) => existing.stream.id !== removed.id);
      this.error = null;
      this.notices.announce('Stream removed', { label: 'Undo', run: () => this.restoreStream(removed) });
      return true;
    } catch (error) {
      this.error = asApiError(error);
      return false;
    }
  }

  /** Undo of a removal: the same fields as a new stream. */
  async restoreStream(removed: Stream): Promise<void> {
    try {
      this.streamSaved(await this.api.addStream(streamInputOf(removed)));
      this.error = null;
      this.notices.announce(`Stream restored: ${removed.title}`);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Saves a settings change; rejects with the server's error for the form to show. */
  async saveSettings(patch: SettingsPatch): Promise<GeneralSettings> {
    const settings = await this.api.updateSettings(patch);
    this.settings = settings;
    return settings;
  }
}
