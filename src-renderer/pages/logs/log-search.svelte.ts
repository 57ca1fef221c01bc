// The Logs page's search of the log on disk (searchLog): requests from before the live log's
// memory and before a restart, by route, client, status, path and time range, newest first, with
// "Load older" following the answer's `next`. "Load older" continues the search that was run, even
// when the form has been edited since.
import type { ApiClient, ApiError, FieldIssue } from '../../../shared/api.js';
import { LogSearchInputSchema, type LogSearchInput, type LogSearchResult } from '../../../shared/insight.js';
import { asApiError, zodIssues } from '../../app/errors.js';
import { FieldErrors, submitChecked, type SavingForm } from '../../app/field-errors.svelte.js';
import type { LogRow } from './access-log.svelte.js';

/** Matches asked for per page. */
export const SEARCH_PAGE = 100;

export const SEARCH_FIELDS = ['routeId', 'client', 'status', 'path', 'from', 'to'] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

const isField = (path: string): path is SearchField => (SEARCH_FIELDS as readonly string[]).includes(path);

/** A datetime-local value ("2026-12-06T10:00") as an ISO time in UTC; null when it is not a time. */
export function localToIso(value: string): string | null {
  const date = new Date(value);
  return value.trim() === '' || Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export class LogSearch implements SavingForm<SearchField> {
  routeId = $state('');
  client = $state('');
  status = $state('');
  path = $state('');
  /** datetime-local values, in this device's time zone. */
  from = $state('');
  to = $state('');

  /** Matches so far, newest first. */
  rows = $state.raw<LogRow[]>([]);
  /** Pass to searchLog as `before` for older matches; null when the log holds no more. */
  next = $state<string | null>(null);
  /** Log lines read for this search so far. */
  scanned = $state(0);
  /** A search has been run (the results, even none, are shown). */
  searched = $state(false);
  /** The first page is on its way. */
  saving = $state(false);
  loadingOlder = $state(false);
  error = $state.raw<ApiError | null>(null);
  errorIssues = $state.raw<FieldIssue[]>([]);
  expanded = $state.raw<ReadonlySet<number>>(new Set());

  readonly fieldErrors = new FieldErrors<SearchField>(() => this.#check().errors, (path) => (isField(path) ? path : null));
  readonly #api: Pick<ApiClient, 'searchLog'>;
  #query: LogSearchInput | null = null;
  #nextKey = 1;

  constructor(api: Pick<ApiClient, 'searchLog'>) {
    this.#api = api;
  }

  /** The form as searchLog's input, or each field's problem. */
  #check(): { errors: Partial<Record<SearchField, string>>; result: { ok: true; input: LogSearchInput } | { ok: false; rest: FieldIssue[] } } {
    const errors: Partial<Record<SearchField, string>> = {};
    const input: Record<string, unknown> = { limit: SEARCH_PAGE };
    for (const field of ['routeId', 'client', 'status', 'path'] as const) if (this[field].trim() !== '') input[field] = this[field].trim();
    for (const field of ['from', 'to'] as const) {
      if (this[field].trim() === '') continue;
      const iso = localToIso(this[field]);
      if (iso === null) errors[field] = 'enter a date and time';
      else input[field] = iso;
    }
    const parsed = LogSearchInputSchema.safeParse(input);
    const rest: FieldIssue[] = [];
    if (!parsed.success) {
      for (const issue of zodIssues(parsed.error)) {
        if (isField(issue.path)) errors[issue.path] ??= issue.message;
        else rest.push(issue);
      }
    }
    if (typeof input.from === 'string' && typeof input.to === 'string' && Date.parse(input.from) >= Date.parse(input.to)) {
      errors.from ??= 'from must be before to';
    }
    const ok = parsed.success && Object.keys(errors).length === 0;
    return { errors, result: ok ? { ok: true, input: input as LogSearchInput } : { ok: false, rest } };
  }

  /** Runs the form's search from the newest entry. */
  async search(): Promise<void> {
    const answer = await submitChecked(this, this.#check().result, 'search', async (input) => {
      const result = await this.#api.searchLog(input);
      return { input, result };
    });
    if (!answer) return;
    this.#query = answer.input;
    this.expanded = new Set();
    this.rows = [];
    this.scanned = 0;
    this.#show(answer.result);
    this.searched = true;
  }

  /** The next page of older matches of the search that ran. */
  async loadOlder(): Promise<void> {
    if (!this.#query || this.next === null || this.loadingOlder) return;
    this.loadingOlder = true;
    try {
      this.#show(await this.#api.searchLog({ ...this.#query, before: this.next }));
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.loadingOlder = false;
    }
  }

  #show(result: LogSearchResult): void {
    this.rows = this.rows.concat(result.entries.map((entry) => ({ ...entry, key: this.#nextKey++ })));
    this.next = result.next;
    this.scanned += result.scanned;
  }

  /** Empties the form and the results. */
  clear(): void {
    this.routeId = this.client = this.status = this.path = this.from = this.to = '';
    this.rows = [];
    this.next = null;
    this.searched = false;
    this.error = null;
    this.errorIssues = [];
    this.#query = null;
    this.fieldErrors.reset();
  }

  toggle(key: number): void {
    const next = new Set(this.expanded);
    if (!next.delete(key)) next.add(key);
    this.expanded = next;
  }
}
