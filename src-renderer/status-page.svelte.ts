// The status page's state: the proxy's status and the routes, loaded once and then kept live by
// events, plus the Start/Stop actions. Components read it; only this file talks to the API.
import { ApiError, type ApiClient } from '../shared/api.js';
import type { ProxyStatus, Route } from '../shared/model.js';

export type ProxyAction = 'start' | 'stop';

export class StatusPage {
  /** Null until the first answer arrives. */
  status = $state<ProxyStatus | null>(null);
  routes = $state<Route[]>([]);
  /** The action the user asked for that has not been answered yet. */
  pending = $state<ProxyAction | null>(null);
  /** What went wrong with the last load or action, until the next one succeeds. */
  error = $state<ApiError | null>(null);

  /** The error to show above the page: not when the proxy's status already shows the same problem. */
  visibleError = $derived(this.error && this.error.message !== this.status?.problem?.message ? this.error : null);

  /** What the proxy button does now; null while the proxy is changing state or the page is loading. */
  nextAction = $derived.by((): ProxyAction | null => {
    if (this.pending !== null) return null;
    if (this.status?.state === 'running') return 'stop';
    if (this.status?.state === 'stopped' || this.status?.state === 'failed') return 'start';
    return null;
  });

  readonly #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  /** Subscribes to events, then loads the current state; returns the function that stops listening. */
  connect(): () => void {
    const stops = [
      this.#api.on('status', (status) => {
        this.status = status;
      }),
      this.#api.on('routes', (routes) => {
        this.routes = routes;
      }),
    ];
    void this.reload();
    return () => stops.forEach((stop) => stop());
  }

  /** Reads everything again: at start, and after live updates were interrupted. */
  async reload(): Promise<void> {
    try {
      const [status, routes] = await Promise.all([this.#api.getStatus({}), this.#api.listRoutes({})]);
      this.status = status;
      this.routes = routes;
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Starts or stops the proxy; does nothing while an earlier request is still on its way. */
  run = async (action: ProxyAction): Promise<void> => {
    if (this.pending) return;
    this.pending = action;
    try {
      this.status = action === 'start' ? await this.#api.startProxy({}) : await this.#api.stopProxy({});
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.pending = null;
    }
  };
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError('internal', error instanceof Error ? error.message : String(error));
}
