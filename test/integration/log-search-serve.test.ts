// searchLog through the real `gatehouse serve` (issue 17): requests from before a restart are found
// in access.log and its rotated files, requests of this run are found at once (still pending in
// memory when asked), pages with `next` cover every match once, and a bad range is refused naming
// the field.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LogSearchResult } from '../../shared/insight.js';
import type { Route } from '../../shared/model.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const BEFORE = 400;

describe('searching the access log of a real serve across a restart', () => {
  let dataDir: string;
  let serve: ServeProcess | null = null;
  let upstream: Upstream;

  before(async () => {
    dataDir = await makeDataDir();
    upstream = await startEchoUpstream('logged');
  });

  after(async () => {
    await serve?.stop();
    await upstream.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function search(s: ServeProcess, query: Record<string, string | number>): Promise<LogSearchResult> {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    const answer = await s.api(`/api/log/search?${params}`);
    assert.equal(answer.status, 200, await answer.clone().text());
    return (await answer.json()) as LogSearchResult;
  }

  test('entries from before the restart, across rotated files, and entries not yet flushed', async () => {
    const first = await startServe({ dataDir });
    serve = first;
    // Small files, so the run's requests rotate the log several times.
    const patched = await first.api('/api/settings', { method: 'PATCH', body: JSON.stringify({ log: { maxFileBytes: 65536, keepFiles: 10 } }), headers: { 'content-type': 'application/json' } });
    assert.equal(patched.status, 200, await patched.text());
    const added = await first.api('/api/routes', { method: 'POST', body: JSON.stringify({ title: 'Logged', names: ['logged.test'], upstream: upstream.address }), headers: { 'content-type': 'application/json' } });
    const route = (await added.json()) as Route;
    for (let i = 0; i < BEFORE; i++) {
      assert.equal((await requestThrough(first.proxyPort!, 'logged.test', `/before/${i}?padding=${'p'.repeat(200)}`)).status, 200);
    }
    assert.equal((await requestThrough(first.proxyPort!, 'nobody.test', '/before/unmatched')).status, 404);
    await first.stop({ keepDataDir: true });
    serve = null;
    assert.ok(existsSync(join(dataDir, 'access.log.2')), 'the log was rotated at least twice');

    const second = await startServe({ dataDir });
    serve = second;
    for (let i = 0; i < 3; i++) assert.equal((await requestThrough(second.proxyPort!, 'logged.test', `/after/${i}`)).status, 200);
    // Asked at once: these are still waiting in memory to be written (the log writes every 100 ms).
    const fresh = await search(second, { path: '/after/' });
    assert.deepEqual(fresh.entries.map((e) => e.path), ['/after/2', '/after/1', '/after/0']);

    const found: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const page = await search(second, { routeId: route.id, path: '/before/', status: '2xx', client: '127.0.', limit: 150, ...(next ? { before: next } : {}) });
      found.push(...page.entries.map((e) => e.path.split('?')[0]!));
      next = page.next;
      pages++;
    } while (next && pages < 20);
    assert.equal(pages, 3);
    assert.deepEqual(found, Array.from({ length: BEFORE }, (_, i) => `/before/${BEFORE - 1 - i}`), 'every request once, newest first');

    const unmatched = await search(second, { status: '404', host: 'NOBODY' });
    assert.deepEqual(unmatched.entries.map((e) => e.path), ['/before/unmatched']);
    const now = Date.now();
    const recent = await search(second, { from: new Date(now - 60_000).toISOString(), to: new Date(now + 60_000).toISOString(), path: '/after/1' });
    assert.equal(recent.entries.length, 1);
  });

  test('a range that ends before it starts is refused, naming from', async () => {
    assert.ok(serve);
    const answer = await serve.api('/api/log/search?from=2026-12-06T12:00:00Z&to=2026-12-06T10:00:00Z');
    assert.equal(answer.status, 400);
    const body = (await answer.json()) as { error: { code: string; message: string; issues: { path: string }[] } };
    assert.equal(body.error.code, 'invalid_input');
    assert.equal(body.error.issues[0]!.path, 'from');
    assert.match(body.error.message, /^from: /);
  });
});
