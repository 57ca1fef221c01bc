// The live access log for the UI: entries gathered into one `log` event at most every
// LOG_BATCH_INTERVAL_MS, so a busy proxy sends a few messages a second to each subscriber instead of
// one per request. With no subscriber for `log` (no Logs page open in the desktop window, see
// electron/event-wants.ts; no event stream open on `gatehouse serve`), an entry costs one comparison:
// nothing is kept or scheduled.
import type { AccessLogEntry } from '../../../shared/status.js';
import { TrailingThrottle } from './trailing-throttle.js';

/** Shortest time between two `log` events. Default: 250 ms. */
export const LOG_BATCH_INTERVAL_MS = 250;
/**
 * Most entries one event carries; under a flood the oldest of a batch are left out (the file log
 * keeps every one). Default: 1000, the same as the in-memory log the UI can read back.
 */
export const LOG_BATCH_MAX_ENTRIES = 1000;

export class LogBatches {
  #pending: AccessLogEntry[] = [];
  readonly #throttle: TrailingThrottle;

  constructor(
    /** Whether anyone listens; checked per entry, so it must be cheap. */
    private readonly listening: () => boolean,
    private readonly send: (entries: AccessLogEntry[]) => void,
    intervalMs = LOG_BATCH_INTERVAL_MS,
  ) {
    this.#throttle = new TrailingThrottle(() => this.#flush(), intervalMs);
  }

  add(entry: AccessLogEntry): void {
    if (!this.listening()) return;
    if (this.#pending.length >= LOG_BATCH_MAX_ENTRIES) this.#pending.shift();
    this.#pending.push(entry);
    // A quiet proxy's request shows at once (the next turn, so a burst still goes as one event);
    // a busy one's wait until the interval since the last event has passed.
    this.#throttle.request();
  }

  /** Drops what is pending; nothing is sent after this. */
  close(): void {
    this.#throttle.cancel();
    this.#pending = [];
  }

  #flush(): void {
    const entries = this.#pending;
    this.#pending = [];
    if (entries.length > 0) this.send(entries);
  }
}
