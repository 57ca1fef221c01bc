// The fake Gatehouse's searchLog: the fake's log as if it were on disk (plus `older`, entries from
// before a restart that the live log no longer holds), filtered like the real search
// (src-main/core/insight/log-search.ts), newest first, paged with a `next` cursor.
import { ApiError } from '../../shared/api.js';
import type { LogSearchResult } from '../../shared/insight.js';
import type { AccessLogEntry } from '../../shared/status.js';

export interface FakeLogSearchInput {
  routeId?: string;
  client?: string;
  status?: string;
  path?: string;
  host?: string;
  from?: string;
  to?: string;
  limit: number;
  before?: string;
}

function refuse(field: string, message: string): ApiError {
  return new ApiError('invalid_input', `${field}: ${message}`, { issues: [{ path: field, message }] });
}

function statusRange(status: string): [number, number] {
  if (/^[1-5]xx$/.test(status)) return [Number(status[0]) * 100, Number(status[0]) * 100 + 99];
  const [low, high = low] = status.split('-').map(Number) as [number, number?];
  if (low > high) throw refuse('status', `the range ${status} starts after it ends; write the lower code first`);
  return [low, high];
}

export class FakeLogSearch {
  /** Entries only "on disk" (from before a restart), oldest first; they come before the live log. */
  older: AccessLogEntry[] = [];

  constructor(private readonly live: () => AccessLogEntry[]) {}

  search(input: FakeLogSearchInput): LogSearchResult {
    const from = input.from === undefined ? null : Date.parse(input.from);
    const to = input.to === undefined ? null : Date.parse(input.to);
    if (from !== null && to !== null && from >= to) throw refuse('from', `from (${input.from}) must be before to (${input.to}); the range is [from, to)`);
    const status = input.status === undefined ? null : statusRange(input.status);
    const all = [...this.older, ...this.live()];
    let index = all.length;
    if (input.before !== undefined) {
      const match = /^fake\.(\d+)$/.exec(input.before);
      if (!match) throw refuse('before', 'before takes the `next` of a previous search, as it was returned');
      index = Math.min(Number(match[1]), all.length);
    }
    const entries: AccessLogEntry[] = [];
    let scanned = 0;
    while (index > 0 && entries.length < input.limit) {
      const entry = all[--index]!;
      scanned++;
      const time = Date.parse(entry.time);
      const keep =
        (input.routeId === undefined || entry.routeId === input.routeId) &&
        (input.client === undefined || entry.client.toLowerCase().startsWith(input.client.toLowerCase())) &&
        (status === null || (entry.status >= status[0] && entry.status <= status[1])) &&
        (input.path === undefined || entry.path.includes(input.path)) &&
        (input.host === undefined || entry.host.toLowerCase().includes(input.host.toLowerCase())) &&
        (from === null || time >= from) &&
        (to === null || time < to);
      if (keep) entries.push(entry);
    }
    return { entries, next: index > 0 ? `fake.${index}` : null, scanned };
  }
}
