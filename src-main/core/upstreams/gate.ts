// Admission to one upstream address: at most `connections` requests under way at once, one client
// at most `perClient` of them, the rest waiting (fairly, client by client) up to `waitMs` for a slot,
// then refused with a 503 and Retry-After. Long-lived requests (long-polls, slow downloads) of one
// client can then never starve everyone else's quick ones. See docs/upstream-limits.md.
//
// Fairness: each client waits in its own FIFO, and a freed slot goes to the next client in a ring
// of waiting clients (round robin), skipping clients already at perClient. A client with 500
// requests queued and one with a single request then alternate, instead of the single one waiting
// behind all 500.
//
// Memory: at most WAITERS_PER_CONNECTION × connections requests wait per gate; beyond that a request
// is refused at once. Per-client counts exist only for clients with a request under way or waiting.
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UpstreamLimits } from '../../../shared/upstreams.js';
import { ProxyError, seconds } from '../proxy/errors.js';
import type { Upstream } from './registry.js';

/** Requests that may wait per gate, as a multiple of `connections`; more are refused at once. */
export const WAITERS_PER_CONNECTION = 4;

/** Which limit refused a request. */
export type GateLimit = 'connections' | 'perClient' | 'waiters';

/** Why a request got no slot: for the log's detail and the 503's Retry-After. */
export interface GateRefusal {
  limit: GateLimit;
  /** How long it waited (0 when refused at once). */
  waitedMs: number;
  /** The full sentence for the log and the admin (names the address and the limit's value). */
  detail: string;
  /** Seconds the client is told to wait before trying again. */
  retryAfterS: number;
}

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[0];
type Headers = Record<string, string | string[] | undefined>;

/** The cancel of a request that is not waiting (granted or refused at once): one for every call. */
const NOT_WAITING = (): boolean => false;

interface Waiter {
  readonly client: string;
  readonly since: number;
  readonly granted: (release: () => void) => void;
  readonly timedOut: (waitedMs: number, refusal: GateRefusal) => void;
  timer: NodeJS.Timeout | null;
}

export class UpstreamGate {
  #inFlight = 0;
  #waiting = 0;
  #busyRefusals = 0;
  #limits: UpstreamLimits;
  readonly #address: string;
  /** Slots held per client key; an entry exists only while its count is above zero. */
  readonly #held = new Map<string, number>();
  /**
   * Waiting requests per client key, in arrival order. The Map's own order is the round-robin
   * ring: a client that was just served moves to its end. Only clients with waiters are in it.
   */
  readonly #queues = new Map<string, Waiter[]>();

  constructor(limits: UpstreamLimits, address = 'the service') {
    this.#limits = limits;
    this.#address = address;
  }

  /** New limits (settings changed); requests under way keep their slots, waiters may now get one. */
  setLimits(limits: UpstreamLimits): void {
    this.#limits = limits;
    this.#pump();
  }

  get limits(): UpstreamLimits {
    return this.#limits;
  }

  /** Requests holding a slot now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for a slot now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Requests refused as busy (wait ran out, or too many waiting) since the gate was made. */
  get busyRefusals(): number {
    return this.#busyRefusals;
  }

  /** Slots `client` holds now. */
  heldBy(client: string): number {
    return this.#held.get(client) ?? 0;
  }

  /** Most requests that may wait at once. */
  get maxWaiting(): number {
    return this.#limits.connections * WAITERS_PER_CONNECTION;
  }

  /**
   * Asks for a slot for `client` (its client key: the address, an IPv6 /64). `granted` gets the
   * slot's release (call it exactly once, when the upstream request is over; later calls do
   * nothing); `timedOut` is called instead when no slot freed within waitMs, or at once when too
   * many requests already wait. Either may be called before acquire returns. Returns a cancel for a
   * client that left while waiting: true when it withdrew the request (neither callback will be
   * called), false once granted or refused (it then does nothing).
   */
  acquire(client: string, granted: (release: () => void) => void, timedOut: (waitedMs: number, refusal: GateRefusal) => void): () => boolean {
    // A free slot with others waiting means every waiting client is at its perClient (#pump hands
    // free slots out at once otherwise), so a client with no queue of its own takes it, whatever
    // waitMs is: nobody it could overtake could have used that slot.
    if (!this.#queues.has(client) && this.#canGrant(client)) {
      granted(this.#take(client));
      return NOT_WAITING;
    }
    if (this.#waiting >= this.maxWaiting || this.#limits.waitMs === 0) {
      this.#refuse(timedOut, this.#refusal(client, 0, this.#waiting >= this.maxWaiting ? 'waiters' : this.#limitFor(client)));
      return NOT_WAITING;
    }
    const waiter: Waiter = { client, since: performance.now(), granted, timedOut, timer: null };
    waiter.timer = setTimeout(() => {
      waiter.timer = null;
      this.#remove(waiter);
      const waited = Math.round(performance.now() - waiter.since);
      this.#refuse(timedOut, this.#refusal(client, waited, this.#limitFor(client)));
    }, this.#limits.waitMs);
    const queue = this.#queues.get(client);
    if (queue) queue.push(waiter);
    else this.#queues.set(client, [waiter]);
    this.#waiting++;
    // A slot may be free for this client even with others waiting (they are at their perClient).
    this.#pump();
    return () => {
      if (waiter.timer === null) return false;
      clearTimeout(waiter.timer);
      waiter.timer = null;
      this.#remove(waiter);
      return true;
    };
  }

  #canGrant(client: string): boolean {
    return this.#inFlight < this.#limits.connections && this.heldBy(client) < this.#limits.perClient;
  }

  #take(client: string): () => void {
    this.#inFlight++;
    this.#held.set(client, this.heldBy(client) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      const left = this.heldBy(client) - 1;
      if (left > 0) this.#held.set(client, left);
      else this.#held.delete(client);
      this.#pump();
    };
  }

  /** Hands free slots to waiting clients, one per client in ring order, while any can take one. */
  #pump(): void {
    while (this.#inFlight < this.#limits.connections && this.#queues.size > 0) {
      let next: Waiter | undefined;
      for (const [client, queue] of this.#queues) {
        if (this.heldBy(client) >= this.#limits.perClient) continue;
        next = queue[0];
        break;
      }
      if (!next) return;
      clearTimeout(next.timer as NodeJS.Timeout);
      next.timer = null;
      this.#remove(next);
      // The client goes to the ring's end: the others are offered the next slots first.
      const rest = this.#queues.get(next.client);
      if (rest) {
        this.#queues.delete(next.client);
        this.#queues.set(next.client, rest);
      }
      next.granted(this.#take(next.client));
    }
  }

  #remove(waiter: Waiter): void {
    const queue = this.#queues.get(waiter.client);
    if (!queue) return;
    const at = queue.indexOf(waiter);
    if (at === -1) return;
    queue.splice(at, 1);
    this.#waiting--;
    if (queue.length === 0) this.#queues.delete(waiter.client);
  }

  #refuse(timedOut: Waiter['timedOut'], refusal: GateRefusal): void {
    this.#busyRefusals++;
    timedOut(refusal.waitedMs, refusal);
  }

  #limitFor(client: string): GateLimit {
    return this.heldBy(client) >= this.#limits.perClient ? 'perClient' : 'connections';
  }

  #refusal(client: string, waitedMs: number, limit: GateLimit): GateRefusal {
    const { connections, perClient, waitMs } = this.#limits;
    const address = this.#address;
    const mine = this.heldBy(client);
    const noneFreed = waitMs === 0 ? 'waiting is turned off (upstream limits: wait 0 s)' : `none freed within ${duration(waitedMs)}`;
    let detail: string;
    switch (limit) {
      case 'perClient':
        detail = `Your address already has ${mine} requests under way to ${address}, the most one client may have (upstream limits: ${perClient} per client), and ${waitMs === 0 ? noneFreed : `none of them finished within ${duration(waitedMs)}`}.`;
        break;
      case 'waiters':
        detail = `${this.#waiting} requests are already waiting for a connection to ${address}, the most Gatehouse lets wait (${WAITERS_PER_CONNECTION} × its ${connections} connections), so this one was refused at once.`;
        break;
      default:
        detail = `Every one of the ${connections} connections Gatehouse allows to ${address} is in use (${mine} by your address) and ${noneFreed}.`;
    }
    return { limit, waitedMs, detail, retryAfterS: Math.max(1, Math.min(60, Math.ceil(waitMs / 1000))) };
  }
}

/** "350 ms" under a second (a short test wait would read "0 s"), else "10 s". */
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : seconds(ms);
}

/** The 503 a refused request is answered with: "busy" for the visitor, the limit in the detail. */
export function busyError(refusal: GateRefusal): ProxyError {
  return new ProxyError('upstream_busy', refusal.detail, { rule: `upstream limits: ${refusal.limit}`, headers: { 'retry-after': String(refusal.retryAfterS) } });
}

/**
 * Wraps a dispatch handler so the gate's slot is released exactly once, when the exchange with the
 * upstream is over: answered, failed or aborted (before or after it started), or upgraded (the
 * socket then leaves the pool and is the tunnel's own). The inner handler hears of the end first, so
 * a waiter granted the slot is sent after this answer was wrapped up, not in the middle of it.
 */
class ReleasingHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly release: () => void,
  ) {}

  // Named parameters, not rest arguments: onResponseData runs per body chunk, and a rest array per
  // call is garbage the proxy makes for nothing.
  onRequestStart(controller: Controller, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    try {
      this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
    } finally {
      this.release();
    }
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    try {
      this.inner.onResponseEnd?.(controller, trailers);
    } finally {
      this.release();
    }
  }

  onResponseError(controller: Controller, error: Error): void {
    try {
      this.inner.onResponseError?.(controller, error);
    } finally {
      this.release();
    }
  }
}

/**
 * Sends one request to `upstream` once its gate grants `client` a slot, and frees the slot when the
 * exchange with the upstream is over (answered, failed, aborted, or upgraded). `busy` is called
 * instead of dispatching when the wait ran out (or too many already wait): answer it with
 * busyError(refusal), a 503 with Retry-After. Returns a cancel for a client that went away while
 * waiting: true when it withdrew the request (nothing was or will be sent, no handler event follows);
 * false once dispatched or refused: abort through the handler's controller instead.
 *
 * A dispatch that throws at once (undici refusing the head) throws out of this call, slot freed;
 * one granted later reports the error to the handler's onResponseError instead.
 */
export function gatedDispatch(
  upstream: Upstream,
  client: string,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  busy: (waitedMs: number, refusal: GateRefusal) => void,
): () => boolean {
  let sync = true;
  let thrown: unknown = null;
  const cancel = upstream.gate.acquire(
    client,
    (release) => {
      try {
        upstream.pool.dispatch(options, new ReleasingHandler(handler, release));
      } catch (error) {
        release();
        if (sync) thrown = error ?? new Error('dispatch failed');
        else handler.onResponseError?.(null as never, error as Error);
      }
    },
    busy,
  );
  sync = false;
  if (thrown !== null) throw thrown;
  return cancel;
}
