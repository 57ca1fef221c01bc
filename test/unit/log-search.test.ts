// Searching the access log on disk (issue 17): access.log and its rotated files newest first, each
// filter (route, client prefix, status code/class/range, path, host, [from, to)), paging with
// `next` that survives a rotation between pages, lines that do not parse skipped, a bounded scan
// that hands back a cursor, lines still pending in memory found, and clear errors naming the field.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, parseInput } from '../../shared/api.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { searchAccessLog, type LogSearchQuery, type LogSearchSource } from '../../src-main/core/insight/log-search.js';
import { AccessLog } from '../../src-main/core/proxy/access-log.js';

const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);

function entry(n: number, over: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    time: new Date(T0 + n * 1000).toISOString(),
    client: n % 2 === 0 ? '192.168.1.7' : '203.0.113.9',
    host: n % 3 === 0 ? 'Jellyfin.home.arpa' : 'nas.home.arpa',
    method: 'GET',
    path: `/item/${n}`,
    status: [200, 404, 502, 503, 301][n % 5]!,
    bytes: 10,
    durationMs: 1,
    routeId: n % 3 === 0 ? 'jf' : 'nas',
    upstream: '10.33.0.4:8096',
    error: null,
    detail: null,
    rule: null,
    user: null,
    ...over,
  };
}

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => JSON.stringify(entry(from + i)) + '\n').join('');
const numbers = (entries: AccessLogEntry[]) => entries.map((e) => Number(/^\/item\/(\d+)/.exec(e.path)?.[1]));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => to - i);

/** The query as the API would parse it, so the tests exercise the contract's schema too. */
const q = (input: Record<string, unknown>): LogSearchQuery => parseInput('searchLog', input) as LogSearchQuery;

async function all(query: Record<string, unknown>, source: LogSearchSource, scanBytes?: number): Promise<{ found: AccessLogEntry[]; pages: number }> {
  const found: AccessLogEntry[] = [];
  let before: string | undefined;
  let pages = 0;
  for (;;) {
    const result = await searchAccessLog(q({ ...query, ...(before ? { before } : {}) }), source, scanBytes);
    found.push(...result.entries);
    pages++;
    if (result.next === null) return { found, pages };
    assert.ok(pages < 1000, 'paging ends');
    before = result.next;
  }
}

describe('searching the access log on disk', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'gatehouse-log-search-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  async function logDir(name: string, files: Record<string, string>): Promise<LogSearchSource> {
    const base = join(dir, name);
    await rm(base, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(base));
    for (const [file, text] of Object.entries(files)) await writeFile(join(base, file), text);
    return { file: join(base, 'access.log'), flush: async () => {} };
  }

  test('reads the current and rotated files newest first, skipping what does not parse', async () => {
    const source = await logDir('order', {
      'access.log.2': lines(1, 10),
      'access.log.1': lines(11, 20) + 'not json\n{"time":"x"}\n',
      'access.log': lines(21, 30) + '{"time":"2026-12-01T00:00:31.000Z","cli', // a line still being written
      'access.log.bak': lines(100, 101), // not one of the log's files
    });
    const result = await searchAccessLog(q({}), source);
    assert.deepEqual(numbers(result.entries), range(1, 30));
    assert.equal(result.next, null);
    assert.equal(result.scanned, 32, 'every whole line is counted, parsed or not');
  });

  test('each filter, alone and together', async () => {
    const source = await logDir('filters', { 'access.log.1': lines(1, 50), 'access.log': lines(51, 100) });
    const find = async (input: Record<string, unknown>) => numbers((await searchAccessLog(q(input), source)).entries);
    const expect = (keep: (e: AccessLogEntry) => boolean) => range(1, 100).filter((n) => keep(entry(n)));
    assert.deepEqual(await find({ routeId: 'jf' }), expect((e) => e.routeId === 'jf'));
    assert.deepEqual(await find({ client: '203.0.' }), expect((e) => e.client.startsWith('203.0.')));
    assert.deepEqual(await find({ client: '192.168.1.7' }), expect((e) => e.client === '192.168.1.7'));
    assert.deepEqual(await find({ status: '404' }), expect((e) => e.status === 404));
    assert.deepEqual(await find({ status: '5xx' }), expect((e) => e.status >= 500));
    assert.deepEqual(await find({ status: '500-502' }), expect((e) => e.status === 502));
    assert.deepEqual(await find({ status: '300-404' }), expect((e) => e.status === 301 || e.status === 404));
    assert.deepEqual(await find({ path: '/item/7' }), [79, 78, 77, 76, 75, 74, 73, 72, 71, 70, 7]);
    assert.deepEqual(await find({ host: 'JELLYFIN' }), expect((e) => e.host.startsWith('Jellyfin')));
    const from = new Date(T0 + 40_000).toISOString();
    const to = new Date(T0 + 60_000).toISOString();
    assert.deepEqual(await find({ from, to }), range(40, 59), '[from, to): from included, to not');
    assert.deepEqual(await find({ from, to, routeId: 'nas', status: '5xx', client: '192.' }), expect((e) => e.routeId === 'nas' && e.status >= 500 && e.client.startsWith('192.')).filter((n) => n >= 40 && n < 60));
  });

  test('pages with `next` cover every match once, even when the log rotates between pages', async () => {
    const source = await logDir('paging', { 'access.log.1': lines(1, 40), 'access.log': lines(41, 60) });
    const first = await searchAccessLog(q({ limit: 15, routeId: 'nas' }), source);
    assert.equal(first.entries.length, 15);
    assert.ok(first.next);
    // A rotation: access.log.1 → .2, access.log → .1, and new requests in a fresh access.log.
    await rename(`${source.file}.1`, `${source.file}.2`);
    await rename(source.file, `${source.file}.1`);
    await writeFile(source.file, lines(61, 70));
    const found = [...first.entries];
    let before: string | null = first.next;
    while (before) {
      const page = await searchAccessLog(q({ limit: 15, routeId: 'nas', before }), source);
      found.push(...page.entries);
      before = page.next;
    }
    assert.deepEqual(numbers(found), range(1, 60).filter((n) => n % 3 !== 0), 'older matches, each once, none of the new ones');
    const fresh = await all({ limit: 7 }, source);
    assert.deepEqual(numbers(fresh.found), range(1, 70));
    assert.equal(fresh.pages, 10);
  });

  test('large files are read backwards in chunks: a bounded scan answers with a cursor, and lines across chunk edges are whole', async () => {
    // About 1.5 MiB across two files, with a long path every so often so lines straddle the 64 KiB chunks.
    const big = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => JSON.stringify(entry(from + i, (from + i) % 97 === 0 ? { path: `/item/${from + i}?${'x'.repeat(70_000)}` } : {})) + '\n').join('');
    const source = await logDir('big', { 'access.log.1': big(1, 2500), 'access.log': big(2501, 5000) + 'x'.repeat(300_000) + '\n' + lines(5001, 5001) });
    const capped = await searchAccessLog(q({ path: '/item/1' }), source, 256 * 1024);
    assert.ok(capped.next, 'stopped at the scan cap with a cursor');
    assert.ok(capped.scanned < 5000, `scanned ${capped.scanned} lines, not the whole log`);
    const everything = await all({ path: '/item/1' }, source, 256 * 1024);
    assert.deepEqual(numbers(everything.found), range(1, 5001).filter((n) => String(n).startsWith('1')));
    assert.ok(everything.pages > 3);
    const long = await searchAccessLog(q({ path: 'xxxx', limit: 1000 }), source);
    assert.deepEqual(numbers(long.entries), range(1, 5000).filter((n) => n % 97 === 0), 'lines longer than a chunk are found whole');
  });

  test('a file last written before `from` is not read, nor any older one', async () => {
    const source = await logDir('mtime', { 'access.log.1': lines(1, 10), 'access.log': lines(11, 20) });
    const old = new Date(T0 + 10_000);
    await utimes(`${source.file}.1`, old, old);
    const result = await searchAccessLog(q({ from: new Date(T0 + 10_500).toISOString() }), source);
    assert.deepEqual(numbers(result.entries), range(11, 20));
    assert.equal(result.scanned, 10, 'access.log.1 was skipped whole');
  });

  test('entries still pending in memory are found (written first), and so are those loaded from before a restart', async () => {
    const base = join(dir, 'pending');
    const settings = { accessLog: true, maxFileBytes: 10 * 1024 * 1024, keepFiles: 5, combinedLog: false };
    const first = new AccessLog({ dir: base, settings });
    for (let n = 1; n <= 5; n++) first.write(entry(n));
    await first.close();
    const log = new AccessLog({ dir: base, settings });
    await log.loadRecent();
    for (let n = 6; n <= 8; n++) log.write(entry(n));
    const source = { file: log.file, flush: () => log.flush() };
    const result = await searchAccessLog(q({}), source);
    assert.deepEqual(numbers(result.entries), range(1, 8), 'no entry twice, none missing');
    await log.close();
  });

  test('clear errors name the field', async () => {
    const source = await logDir('errors', { 'access.log': lines(1, 3) });
    const fails = async (input: Record<string, unknown>, field: string, says: RegExp) => {
      await assert.rejects(
        async () => searchAccessLog(q(input), source),
        (error: unknown) => {
          assert.ok(error instanceof ApiError);
          assert.equal(error.code, 'invalid_input');
          assert.match(error.message, says);
          assert.equal((error.details as { issues: { path: string }[] }).issues[0]!.path, field);
          return true;
        },
      );
    };
    await fails({ from: '2026-12-06T12:00:00Z', to: '2026-12-06T10:00:00Z' }, 'from', /from .* must be before to/);
    await fails({ status: '504-500' }, 'status', /starts after it ends/);
    await fails({ before: 'page-2' }, 'before', /`next` of a previous search/);
    await fails({ status: 'teapot' }, 'status', /a status is a code/);
    await fails({ from: 'yesterday' }, 'from', /from is an ISO time/);
    await fails({ client: 'evil.example' }, 'client', /IP address/);
  });

  test('a cursor into a file rotated away ends the search; a missing log finds nothing', async () => {
    const source = await logDir('gone', { 'access.log': lines(1, 10) });
    const page = await searchAccessLog(q({ limit: 3 }), source);
    assert.ok(page.next);
    await rm(source.file);
    await appendFile(source.file, lines(11, 12));
    assert.deepEqual(await searchAccessLog(q({ before: page.next }), source), { entries: [], next: null, scanned: 0 });
    const empty = await searchAccessLog(q({}), { file: join(dir, 'nowhere', 'access.log'), flush: async () => {} });
    assert.deepEqual(empty, { entries: [], next: null, scanned: 0 });
  });
});
