// The Logs page's live access log: the recent entries, then every `log` batch as it arrives, newest
// first. At most KEPT_ROWS are kept, so a busy proxy cannot grow the page's memory without bound.
import type { ApiClient, ApiError } from '../../../shared/api.js';
import type { AccessLogEntry } from '../../../shared/status.js';
import { asApiError } from '../../app/errors.js';

export const KEPT_ROWS = 1000;
/** How many entries the page asks for when it opens (or reconnects). */
export const INITIAL_ROWS = 500;

export type StatusFilter = 'all' | '2xx' | '3xx' | '4xx' | '5xx' | 'errors';

export const statusFilters: { value: StatusFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: '2xx', label: '2xx' },
  { value: '3xx', label: '3xx' },
  { value: '4xx', label: '4xx' },
  { value: '5xx', label: '5xx' },
  { value: 'errors', label: 'Errors only' },
];

/** An entry with a key that stays the same while the list moves, for keyed rendering. */
export interface LogRow extends AccessLogEntry {
  key: number;
}

/** A request Gatehouse turned away on purpose (access, limits, scanners, sign-in): it names the rule. */
export function isRefusal(entry: AccessLogEntry): boolean {
  return entry.rule !== null;
}

/** A request that failed: Gatehouse answered for the upstream (error set), or the upstream sent 5xx. */
export function isFailure(entry: AccessLogEntry): boolean {
  return entry.error !== null || entry.status >= 500;
}

export function matchesStatus(entry: AccessLogEntry, filter: StatusFilter): boolean {
  if (filter === 'all') return true;
  if (filter === 'errors') return isFailure(entry);
  return Math.floor(entry.status / 100) === Number(filter[0]);
}

/**
 * Whether an entry contains every word of `query` (case-insensitive) in its host, path, status,
 * method, client address, failure (code and plain-words reason), the rule that refused it or the
 * user who signed in: "502 jellyfin" finds the Jellyfin requests that got a 502, "family" the
 * requests the list Family decided.
 */
export function matchesSearch(entry: AccessLogEntry, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) return true;
  const text = [entry.host, entry.path, String(entry.status), entry.method, entry.client, entry.error ?? '', entry.detail ?? '', entry.rule ?? '', entry.user ?? ''].join(' ').toLowerCase();
  return words.every((word) => text.includes(word));
}

/** Identifies an entry well enough to drop the copy a batch and the initial read both carry. */
function sameRequest(entry: AccessLogEntry): string {
  return [entry.time, entry.client, entry.method, entry.host, entry.path, entry.status, entry.durationMs].join(' ');
}

export class AccessLog {
  /** Newest first. `raw`: rows are replaced, never edited, so no deep proxy is needed per row. */
  rows = $state.raw<LogRow[]>([]);
  /** '' for every route, else a route id. */
  routeFilter = $state('');
  statusFilter = $state<StatusFilter>('all');
  /** Words every shown entry contains (see matchesSearch); '' shows all. */
  search = $state('');
  /** While paused, new entries wait (up to KEPT_ROWS) and the table stands still for reading. */
  paused = $state(false);
  waiting = $state(0);
  loading = $state(true);
  error = $state.raw<ApiError | null>(null);

  visible = $derived.by(() => {
    const { routeFilter, statusFilter, search } = this;
    if (routeFilter === '' && statusFilter === 'all' && search.trim() === '') return this.rows;
    return this.rows.filter(
      (row) => (routeFilter === '' || row.routeId === routeFilter) && matchesStatus(row, statusFilter) && matchesSearch(row, search),
    );
  });

  /** Keys of the rows whose details (route, upstream, reason) are open. */
  expanded = $state.raw<ReadonlySet<number>>(new Set());

  /** Opens or closes one row's details. */
  toggle(key: number): void {
    const next = new Set(this.expanded);
    if (!next.delete(key)) next.add(key);
    this.expanded = next;
  }

  /** True while any filter or the search hides entries. */
  get filtered(): boolean {
    return this.routeFilter !== '' || this.statusFilter !== 'all' || this.search.trim() !== '';
  }

  /** Shows every entry again. */
  clearFilters(): void {
    this.routeFilter = '';
    this.statusFilter = 'all';
    this.search = '';
  }

  readonly #api: Pick<ApiClient, 'recentLog' | 'on'>;
  #nextKey = 1;
  #held: AccessLogEntry[] = [];
  /** Batches that arrived while the initial read was on its way; null once it is done. */
  #early: AccessLogEntry[] | null = null;
  #reading: Promise<void> | null = null;

  constructor(api: Pick<ApiClient, 'recentLog' | 'on'>) {
    this.#api = api;
  }

  /** Listens for new entries and reads the recent ones; returns the function that stops listening. */
  connect(): () => void {
    const stop = this.#api.on('log', (batch) => this.#receive(batch));
    void this.reload();
    return stop;
  }

  /** Reads the recent entries again (at start and after a reconnect), replacing what is shown. */
  reload(): Promise<void> {
    // One read at a time: a second would reset the batches the first is collecting.
    this.#reading ??= this.#read().finally(() => (this.#reading = null));
    return this.#reading;
  }

  async #read(): Promise<void> {
    this.loading = true;
    this.#early = [];
    try {
      const recent = await this.#api.recentLog({ limit: INITIAL_ROWS });
      const early = this.#early ?? [];
      const seen = new Set(recent.map(sameRequest));
      this.#held = [];
      this.waiting = 0;
      this.rows = [];
      this.#add([...recent, ...early.filter((entry) => !seen.has(sameRequest(entry)))]);
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.#early = null;
      this.loading = false;
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.#held;
    this.#held = [];
    this.waiting = 0;
    this.#add(held);
  }

  #receive(batch: AccessLogEntry[]): void {
    if (this.#early) {
      this.#early.push(...batch);
    } else if (this.paused) {
      this.#held.push(...batch);
      if (this.#held.length > KEPT_ROWS) this.#held.splice(0, this.#held.length - KEPT_ROWS);
      this.waiting = this.#held.length;
    } else {
      this.#add(batch);
    }
  }

  /** Adds entries given oldest first; keeps the newest KEPT_ROWS. */
  #add(entries: readonly AccessLogEntry[]): void {
    if (entries.length === 0) return;
    const newest = entries.slice(-KEPT_ROWS);
    const fresh: LogRow[] = [];
    for (let index = newest.length - 1; index >= 0; index -= 1) fresh.push({ ...newest[index]!, key: this.#nextKey++ });
    this.rows = fresh.concat(this.rows.slice(0, KEPT_ROWS - fresh.length));
  }
}
