// The combined log's lines: nginx's "combined" format exactly, visitors unable to forge a line or
// a field, user names in the characters CrowdSec's parser takes, and the file written and rotated
// next to access.log only when log.combinedLog is on.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultSettings } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { AccessLog, COMBINED_LOG_FILE } from '../../src-main/core/proxy/access-log.js';
import { combinedLine } from '../../src-main/core/proxy/combined-log.js';

function entry(extra: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return { time: '2026-12-06T04:31:45.123Z', client: '198.51.100.7', host: 'app.test', method: 'GET', path: '/index.html?q=1', status: 200, bytes: 612, durationMs: 1.2, routeId: 'app', upstream: '127.0.0.1:1', error: null, detail: null, rule: null, user: null, ...extra };
}
const req = (headers: Record<string, string> = {}, httpVersion = '1.1') => ({ httpVersion, headers });

test('a request as nginx would write it', () => {
  assert.equal(
    combinedLine(entry(), req({ referer: 'https://example.com/', 'user-agent': 'Mozilla/5.0 (X11)' })),
    '198.51.100.7 - - [06/Dec/2026:04:31:45 +0000] "GET /index.html?q=1 HTTP/1.1" 200 612 "https://example.com/" "Mozilla/5.0 (X11)"',
  );
  assert.equal(combinedLine(entry({ status: 404, bytes: 0, client: '2001:db8::7' }), req({}, '2.0')), '2001:db8::7 - - [06/Dec/2026:04:31:45 +0000] "GET /index.html?q=1 HTTP/2.0" 404 0 "-" "-"');
  assert.equal(combinedLine(entry({ method: '', path: '' }), null), null, 'no request line, no combined line');
});

test('quotes, backslashes, control and non-ASCII bytes are escaped as nginx does', () => {
  const line = combinedLine(entry({ path: '/a"b\\c' }), req({ 'user-agent': 'x" 200 1 "-" "evil\nnext', referer: 'caf\u00e9 \u2603' })) as string;
  assert.equal(line, '198.51.100.7 - - [06/Dec/2026:04:31:45 +0000] "GET /a\\x22b\\x5Cc HTTP/1.1" 200 612 "caf\\xE9 \\xE2\\x98\\x83" "x\\x22 200 1 \\x22-\\x22 \\x22evil\\x0Anext"');
  assert.equal(line.split('"').length, 7, 'exactly three quoted fields');
  assert.ok(!line.includes('\n'));
});

test("user names keep to the characters of CrowdSec's NGUSER pattern", () => {
  assert.match(combinedLine(entry({ user: 'alice' }), null) as string, / - alice \[/);
  assert.match(combinedLine(entry({ user: 'bob1 x%' }), null) as string, / - bob%31%20x%25 \[/);
});

test('the combined file is written only when switched on, and rotated like access.log', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-combined-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const settings = { ...defaultSettings().log, maxFileBytes: 65536, keepFiles: 2 };
  const off = new AccessLog({ dir, settings });
  off.write(entry(), req());
  await off.close();
  assert.deepEqual((await readdir(dir)).sort(), ['access.log'], 'off by default');

  const log = new AccessLog({ dir, settings: { ...settings, combinedLog: true } });
  for (let i = 0; i < 1500; i++) log.write(entry({ path: `/p${i}` }), req({ 'user-agent': 'test-agent/1.0' }));
  await log.close();
  const files = (await readdir(dir)).filter((name) => name.startsWith(COMBINED_LOG_FILE)).sort();
  // 1500 lines of ~100 bytes against 64 KiB files: rotated at least once, at most keepFiles kept.
  assert.ok(files.includes(`${COMBINED_LOG_FILE}.1`) && files.every((name) => [COMBINED_LOG_FILE, `${COMBINED_LOG_FILE}.1`, `${COMBINED_LOG_FILE}.2`].includes(name)), files.join());
  const newest = files.includes(COMBINED_LOG_FILE) ? COMBINED_LOG_FILE : `${COMBINED_LOG_FILE}.1`;
  const last = (await readFile(join(dir, newest), 'utf8')).trim().split('\n').at(-1);
  assert.equal(last, '198.51.100.7 - - [06/Dec/2026:04:31:45 +0000] "GET /p1499 HTTP/1.1" 200 612 "-" "test-agent/1.0"');
  // The JSON log is unchanged: the same entry, as JSON.
  const jsonFile = (await readdir(dir)).includes('access.log') ? 'access.log' : 'access.log.1';
  const json = (await readFile(join(dir, jsonFile), 'utf8')).trim().split('\n').at(-1) as string;
  assert.deepEqual(JSON.parse(json), entry({ path: '/p1499' }));
});
