// An overview the core sends whole (certificates, discovery): read once, then replaced by each event
// that carries it. Each page that shows one makes its own and connects it in an $effect, so nothing
// listens while no such page is shown; the page re-reads it after a reconnect.
import type { ApiError } from '../../shared/api.js';
import { asApiError } from './errors.js';

export class LiveOverview<T> {
  /** Null until the first answer. */
  overview = $state.raw<T | null>(null);
  /** Why the overview could not be read; null once it was. */
  error = $state.raw<ApiError | null>(null);

  readonly #listen: (apply: (overview: T) => void) => () => void;
  readonly #read: () => Promise<T>;
  #events = 0;

  /**
   * @param listen subscribes to the event that carries the overview; returns the unsubscribe function
   * @param read asks for the overview
   */
  constructor(listen: (apply: (overview: T) => void) => () => void, read: () => Promise<T>) {
    this.#listen = listen;
    this.#read = read;
  }

  /** Listens for changes and reads the overview; returns the function that stops listening. */
  connect(): () => void {
    const stop = this.#listen((overview) => this.update(overview));
    void this.reload();
    return stop;
  }

  /** A newer overview (from the event, or from an action's answer). */
  update(overview: T): void {
    this.#events += 1;
    this.overview = overview;
    this.error = null;
  }

  async reload(): Promise<void> {
    const before = this.#events;
    try {
      const overview = await this.#read();
      // An event that arrived while reading carries newer data than this answer.
      if (this.#events === before) this.overview = overview;
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    }
  }
}
