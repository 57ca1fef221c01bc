// The live access log for the UI: entries gathered into one `log` event at most every
// LOG_BATCH_INTERVAL_MS, so a busy proxy sends a few messages a second to each window instead of one
// per request. With nobody listening, an entry costs one comparison: nothing is kept or scheduled.
import type { AccessLogEntry } from '../../../shared/model.js';

/** Shortest time between two `log` events. Default: 250 ms. */
export const LOG_BATCH_INTERVAL_MS = 250;
/**
 * Most entries one event carries; under a flood the oldest of a batch are left out (the file log
 * keeps every one). Default: 1000, the same as the in-memory log the UI can read back.
 */
export const LOG_BATCH_MAX_ENTRIES = 1000;

export class LogBatches {
  #pending: AccessLogEntry[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** performance.now() of the last event; -Infinity so the first entry goes out at once. */
  #lastSent = -Infinity;

  constructor(
    /** Whether anyone listens; checked per entry, so it must be cheap. */
    private readonly listening: () => boolean,
    private readonly send: (entries: AccessLogEntry[]) => void,
    private readonly intervalMs = LOG_BATCH_INTERVAL_MS,
  ) {}

  add(entry: AccessLogEntry): void {
    if (!this.listening()) return;
    if (this.#pending.length >= LOG_BATCH_MAX_ENTRIES) this.#pending.shift();
    this.#pending.push(entry);
    // A quiet proxy's request shows at once (the next turn, so a burst still goes as one event);
    // a busy one's wait until the interval since the last event has passed.
    this.#timer ??= setTimeout(() => this.#flush(), Math.max(0, this.#lastSent + this.intervalMs - performance.now()));
  }

  /** Drops what is pending; nothing is sent after this. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending = [];
  }

  #flush(): void {
    this.#timer = null;
    const entries = this.#pending;
    this.#pending = [];
    this.#lastSent = performance.now();
    if (entries.length > 0) this.send(entries);
  }
}
