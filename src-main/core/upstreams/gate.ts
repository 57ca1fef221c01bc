// Admission to one upstream address: at most `connections` requests under way at once, one client
// at most `perClient` of them, the rest waiting (fairly, client by client) up to `waitMs` for a slot,
// then refused with a 503 and Retry-After. Long-lived requests (long-polls, slow downloads) of one
// client can then never starve everyone else's quick ones. See docs/upstream-limits.md.
//
// FOUNDATION STUB: grants every request at once and only counts. The fair queue replaces it.
import type { Dispatcher } from 'undici';
import type { UpstreamLimits } from '../../../shared/upstreams.js';
import type { Upstream } from './registry.js';

export class UpstreamGate {
  #inFlight = 0;
  #limits: UpstreamLimits;

  constructor(limits: UpstreamLimits) {
    this.#limits = limits;
  }

  /** New limits (settings changed); requests under way keep their slots. */
  setLimits(limits: UpstreamLimits): void {
    this.#limits = limits;
  }

  get limits(): UpstreamLimits {
    return this.#limits;
  }

  /** Requests holding a slot now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Asks for a slot for `client` (its client key: the address, an IPv6 /64). `granted` gets the
   * slot's release (call it exactly once, when the upstream request is over); `timedOut` is called
   * instead when no slot freed within waitMs. Returns a cancel for a client that left while waiting.
   */
  acquire(client: string, granted: (release: () => void) => void, timedOut: (waitedMs: number) => void): () => void {
    void client;
    void timedOut;
    this.#inFlight++;
    let released = false;
    granted(() => {
      if (released) return;
      released = true;
      this.#inFlight--;
    });
    return () => {};
  }
}

/**
 * Sends one request to `upstream` once its gate grants `client` a slot, and frees the slot when the
 * exchange with the upstream is over (answered, failed, aborted, or upgraded). `busy` is called
 * instead of dispatching when the wait ran out: answer 503 with Retry-After. Returns a cancel for a
 * client that went away while waiting (nothing was sent; the slot, if any, is freed).
 *
 * FOUNDATION STUB: dispatches at once.
 */
export function gatedDispatch(
  upstream: Upstream,
  client: string,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  busy: (waitedMs: number) => void,
): () => void {
  void client;
  void busy;
  upstream.pool.dispatch(options, handler);
  return () => {};
}
