// Runs a task at most once per interval, always with what is newest: the first request after a quiet
// spell runs on the next turn (so a burst made in one turn still runs it once), later ones wait until
// the interval since the last run has passed and then share one run. Live events use it so a busy or
// flapping system sends a few messages a second, not one per change.
export class TrailingThrottle {
  #timer: NodeJS.Timeout | null = null;
  /** performance.now() of the last run; -Infinity so the first request runs at once. */
  #lastRun = -Infinity;

  constructor(
    private readonly task: () => void,
    private readonly intervalMs: number,
  ) {}

  /** Asks for a run; does nothing when one is already due. */
  request(): void {
    this.#timer ??= setTimeout(() => this.#run(), Math.max(0, this.#lastRun + this.intervalMs - performance.now()));
  }

  /** Drops a run that is due; a later request schedules again. */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #run(): void {
    this.#timer = null;
    this.#lastRun = performance.now();
    this.task();
  }
}
