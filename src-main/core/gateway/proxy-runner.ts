// The proxy's lifecycle as the user sees it: stopped → starting → running → stopping → stopped, or
// failed with the Problem that says why. The engine binds and serves; this keeps the state, turns a
// bind failure into `port_unavailable` with its fix, and reports every transition. The streams (TCP,
// UDP, FTP) run with it: started after the HTTP and HTTPS listeners are bound, stopped with them. A
// stream that cannot listen never fails the start (its own status says why).
import { ApiError } from '../../../shared/api.js';
import type { ListenerInfo, Problem, ProxyState } from '../../../shared/status.js';
import { ListenError } from '../net/listen.js';
import type { ProxyEngine } from '../proxy/engine.js';

export interface ProxyRunState {
  state: ProxyState;
  http: ListenerInfo | null;
  https: ListenerInfo | null;
  problem: Problem | null;
  startedAt: string | null;
}

/** The streams' side of the proxy's switch (gateway/stream-events.ts StreamRun). */
export interface RunnerStreams {
  /** Listens for every enabled stream (or applies them when already listening); never rejects. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const NO_STREAMS: RunnerStreams = { start: async () => {}, stop: async () => {} };

export class ProxyRunner {
  #state: ProxyState = 'stopped';
  #problem: Problem | null = null;
  #startedAt: string | null = null;

  constructor(
    private readonly engine: Pick<ProxyEngine, 'start' | 'stop' | 'http' | 'https'>,
    /** Called after every transition, to publish the new status. */
    private readonly onChange: () => void,
    private readonly streams: RunnerStreams = NO_STREAMS,
  ) {}

  snapshot(): ProxyRunState {
    return {
      state: this.#state,
      http: this.#state === 'running' ? this.engine.http : null,
      https: this.#state === 'running' ? this.engine.https : null,
      problem: this.#problem,
      startedAt: this.#startedAt,
    };
  }

  /** Starts listening; a no-op while running. Rejects with `port_unavailable` when a port cannot be bound. */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    this.#transition('starting', null);
    try {
      await this.engine.start();
    } catch (error) {
      // Streams kept through a restart (stop({ keepStreams })) stop with the failed proxy.
      await this.streams.stop().catch((stopError: unknown) => console.error('gatehouse: stopping the streams failed:', stopError));
      if (error instanceof ListenError) {
        this.#transition('failed', error.problem);
        throw ApiError.fromProblem('port_unavailable', error.problem);
      }
      const detail = error instanceof Error ? error.message : String(error);
      this.#transition('failed', { code: 'start_failed', message: `The proxy could not start: ${detail}` });
      throw error;
    }
    await this.streams.start();
    this.#startedAt = new Date().toISOString();
    this.#transition('running', null);
  }

  /**
   * Stops listening; in-flight requests get the engine's grace period. Also clears a failed start.
   * `keepStreams`: a restart that moves the HTTP/HTTPS listeners leaves the streams' connections
   * open; the start that follows applies the streams (and stops them if it fails).
   */
  async stop(options: { keepStreams?: boolean } = {}): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#state === 'failed') {
      this.#transition('stopped', null);
      return;
    }
    this.#transition('stopping', null);
    try {
      await Promise.all([this.engine.stop(), options.keepStreams ? undefined : this.streams.stop()]);
    } finally {
      this.#startedAt = null;
      this.#transition('stopped', null);
    }
  }

  #transition(state: ProxyState, problem: Problem | null): void {
    this.#state = state;
    this.#problem = problem;
    if (state !== 'running') this.#startedAt = state === 'stopping' ? this.#startedAt : null;
    this.onChange();
  }
}
