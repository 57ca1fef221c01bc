// Fan-out of API events to every subscriber (the Electron window, each SSE stream, the tray). A
// subscriber that throws is reported and skipped, so one broken listener cannot stop the others or
// the caller that emitted the event. A subscriber may ask for some event types only (serve.json
// follows the status; the tray, notifications and start-at-login only what they show): `log` then
// has nobody to gather entries for unless a page shows the log (the Electron window asks for the types
// its page listens to) or an SSE stream is open (it takes every type).
import { apiEventNames, type ApiEvent, type ApiEventName } from '../../../shared/api.js';

export class EventHub {
  readonly #listeners = new Set<(event: ApiEvent) => void>();
  /** How many subscribers want each event type. */
  readonly #wanted = new Map<ApiEventName, number>();

  /** Delivers every event, or only those of the types in `only`, until the returned function is called. */
  subscribe(listener: (event: ApiEvent) => void, only: readonly ApiEventName[] = apiEventNames): () => void {
    const types = new Set(only);
    // Wrapped so the same function can subscribe twice and unsubscribe each independently.
    const entry = types.size === apiEventNames.length ? (event: ApiEvent) => listener(event) : (event: ApiEvent) => void (types.has(event.type) && listener(event));
    this.#listeners.add(entry);
    for (const type of types) this.#wanted.set(type, (this.#wanted.get(type) ?? 0) + 1);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#listeners.delete(entry);
      for (const type of types) this.#wanted.set(type, (this.#wanted.get(type) ?? 1) - 1);
    };
  }

  /** Whether anyone subscribed to `type`: checked per proxied request, so it is one map lookup. */
  wants(type: ApiEventName): boolean {
    return (this.#wanted.get(type) ?? 0) > 0;
  }

  emit(event: ApiEvent): void {
    // `log` is emitted for proxied requests; with nobody listening it must cost nothing.
    if (!this.wants(event.type)) return;
    // No copy: a Set iterates safely while listeners unsubscribe.
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error(`gatehouse: a ${event.type} event listener failed:`, error);
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }

  clear(): void {
    this.#listeners.clear();
    this.#wanted.clear();
  }
}
