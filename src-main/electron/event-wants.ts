// Which event types the page listens to, so main forwards (and the core gathers) only those. The
// preload keeps one of these; it imports nothing from Electron, so it is unit-tested under Node and
// bundled into the sandboxed preload as it is.
import type { ApiEventName } from '../../shared/api.js';

// Listed here rather than imported from shared/api.ts, so the preload does not carry the schemas;
// a name missing or extra is a compile error.
const eventTypes: Record<ApiEventName, true> = { status: true, routes: true, settings: true, log: true, health: true, failover: true, certificates: true, discovery: true, access: true, streams: true };
const apiEventNames = Object.keys(eventTypes) as ApiEventName[];

/** Event types main forwards before the page has said what it wants: everything but the log. */
export const DEFAULT_WANTED: readonly ApiEventName[] = apiEventNames.filter((type) => type !== 'log');

/** Counts the page's subscriptions per type; `add` and its remover report when the set changed. */
export class EventWants {
  readonly #counts = new Map<ApiEventName, number>();

  /** Registers one subscription (every type when `types` is left out); returns its remover. */
  add(types: readonly ApiEventName[] = apiEventNames): { changed: boolean; remove: () => boolean } {
    const before = this.key();
    for (const type of types) this.#counts.set(type, (this.#counts.get(type) ?? 0) + 1);
    let removed = false;
    return {
      changed: this.key() !== before,
      remove: () => {
        if (removed) return false;
        removed = true;
        const previous = this.key();
        for (const type of types) {
          const count = (this.#counts.get(type) ?? 1) - 1;
          if (count > 0) this.#counts.set(type, count);
          else this.#counts.delete(type);
        }
        return this.key() !== previous;
      },
    };
  }

  /** The types at least one subscription wants, in the contract's order. */
  wanted(): ApiEventName[] {
    return apiEventNames.filter((type) => this.#counts.has(type));
  }

  private key(): string {
    return this.wanted().join(',');
  }
}

/** Checks what the page sent as its wanted types: a list of known names, or null when it is not one. */
export function parseWantedTypes(value: unknown): ApiEventName[] | null {
  if (!Array.isArray(value) || value.length > apiEventNames.length * 4) return null;
  const known = new Set<string>(apiEventNames);
  if (!value.every((type) => typeof type === 'string' && known.has(type))) return null;
  return apiEventNames.filter((type) => value.includes(type));
}
