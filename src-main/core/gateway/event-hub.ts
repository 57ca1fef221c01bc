// Fan-out of API events to every subscriber (the Electron window, each SSE stream). A subscriber
// that throws is reported and skipped, so one broken listener cannot stop the others or the caller
// that emitted the event.
import type { ApiEvent } from '../../../shared/api.js';

export class EventHub {
  readonly #listeners = new Set<(event: ApiEvent) => void>();

  subscribe(listener: (event: ApiEvent) => void): () => void {
    // Wrapped so the same function can subscribe twice and unsubscribe each independently.
    const entry = (event: ApiEvent) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(event: ApiEvent): void {
    // `log` is emitted once per proxied request; with nobody listening it must cost nothing.
    if (this.#listeners.size === 0) return;
    // No copy: a Set iterates safely while listeners unsubscribe, and this runs per request.
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
  }
}
