// Reading the newest access-log entries back from disk: only the files' ends, newest kept, a
// cut-short last line and lines that are not entries skipped, access.log.1 used when access.log is
// short, and the AccessLog's memory filled with them ahead of anything written since.
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AccessLogEntry } from '../../shared/status.js';
import { AccessLog } from '../../src-main/core/proxy/access-log.js';
import { recentEntries, tailEntries } from '../../src-main/core/proxy/access-log-tail.js';

function entry(n: number): AccessLogEntry {
  return {
    time: new Date(Date.UTC(2026, 11, 1, 0, 0, n)).toISOString(),
    client: '192.168.1.7',
    host: 'jellyfin.home.arpa',
    method: 'GET',
    path: `/item/${n}`,
    status: 200,
    bytes: 10,
    durationMs: 1,
    routeId: 'r1',
    upstream: '10.33.0.4:8096',
    error: null,
    detail: null,
    rule: null,
    user: null,
  };
}

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => JSON.stringify(entry(from + i)) + '\n').join('');
const paths = (entries: AccessLogEntry[]) => entries.map((e) => e.path);

describe('reading the access log back', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'gatehouse-log-tail-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  test('the newest entries, oldest first; a cut-short last line and junk lines are skipped', async () => {
    const file = join(dir, 'junk.log');
    await writeFile(file, lines(1, 5) + 'not json\n{"time":"x"}\n[1,2]\n\n' + lines(6, 7) + JSON.stringify(entry(8)).slice(0, 40));
    assert.deepEqual(paths(await tailEntries(file, 100)), ['/item/1', '/item/2', '/item/3', '/item/4', '/item/5', '/item/6', '/item/7']);
    assert.deepEqual(paths(await tailEntries(file, 3)), ['/item/5', '/item/6', '/item/7']);
  });

  test('only the end of a large file is read, and the line it starts inside is not taken for an entry', async () => {
    const file = join(dir, 'big.log');
    await writeFile(file, lines(1, 2000));
    const lineBytes = Buffer.byteLength(JSON.stringify(entry(1000)) + '\n');
    // Room for about ten and a half lines: the first piece is a fragment, and must not parse.
    const entries = await tailEntries(file, 1000, Math.floor(lineBytes * 10.5));
    assert.equal(entries.length, 10, 'ten whole lines fit');
    assert.deepEqual(paths(entries).at(-1), '/item/2000');
    assert.deepEqual(paths(entries)[0], '/item/1991');
  });

  test('a short access.log is preceded by the end of access.log.1; missing files are no entries', async () => {
    const file = join(dir, 'rotated.log');
    await writeFile(`${file}.1`, lines(1, 10));
    await writeFile(file, lines(11, 13));
    assert.deepEqual(paths(await recentEntries(file, 5)), ['/item/9', '/item/10', '/item/11', '/item/12', '/item/13']);
    assert.deepEqual(paths(await recentEntries(file, 2)), ['/item/12', '/item/13'], 'the rotated file is not needed');
    assert.deepEqual(await recentEntries(join(dir, 'none.log'), 5), []);
  });

  test('AccessLog.loadRecent puts them in memory before entries written since, and does not write them again', async () => {
    const logDir = join(dir, 'data');
    const log = new AccessLog({ dir: logDir, settings: { accessLog: true, maxFileBytes: 1 << 20, keepFiles: 2, combinedLog: false } });
    await mkdir(logDir, { recursive: true });
    await appendFile(log.file, lines(1, 3));
    log.write(entry(4));
    assert.equal(await log.loadRecent(), 3);
    assert.deepEqual(paths(log.recent(10)), ['/item/1', '/item/2', '/item/3', '/item/4']);
    assert.deepEqual(paths(log.recent(2)), ['/item/3', '/item/4']);
    await log.close();
    assert.deepEqual((await readFile(log.file, 'utf8')).trim().split('\n').map((line) => (JSON.parse(line) as AccessLogEntry).path), ['/item/1', '/item/2', '/item/3', '/item/4']);
  });

  test('an unreadable log is reported, not thrown', async () => {
    const errors: string[] = [];
    // A directory where the file should be: open works, read fails with EISDIR.
    const logDir = join(dir, 'weird');
    const log = new AccessLog({ dir: logDir, settings: { accessLog: false, maxFileBytes: 1 << 20, keepFiles: 2, combinedLog: false }, onError: (error) => errors.push(error.message) });
    await mkdir(log.file, { recursive: true });
    assert.equal(await log.loadRecent(), 0);
    assert.equal(errors.length, 1);
    assert.deepEqual(log.recent(5), []);
    await log.close();
  });
});
