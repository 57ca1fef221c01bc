// The log after a restart: requests served by one run of `gatehouse serve` are still in the admin's
// log (GET /api/log) when serve is started again on the same data directory, before any new request,
// and new requests follow them. A cut-short last line (a crash mid-write) does not stop the read.
import assert from 'node:assert/strict';
import { appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AccessLogEntry } from '../../shared/status.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream } from '../helpers/upstream.js';

async function recentLog(serve: ServeProcess, limit = 1000): Promise<AccessLogEntry[]> {
  const response = await serve.api(`/api/log?limit=${limit}`);
  assert.equal(response.status, 200);
  return (await response.json()) as AccessLogEntry[];
}

test('the log shows the requests from before a restart of serve', async () => {
  const dataDir = await makeDataDir();
  const upstream = await startEchoUpstream('log-restart');
  try {
    const first = await startServe({ dataDir, args: ['--bind', '127.0.0.1'] });
    try {
      const added = await first.api('/api/routes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Logged', names: ['logged.test'], upstream: upstream.address }),
      });
      assert.ok(added.ok, `addRoute answered ${added.status}`);
      for (let i = 0; i < 5; i++) assert.equal((await requestThrough(first.proxyPort!, 'logged.test', `/before/${i}`)).status, 200);
      assert.equal((await requestThrough(first.proxyPort!, 'nobody.test', '/unmatched')).status, 404);
      assert.equal((await recentLog(first)).length, 6);
    } finally {
      assert.equal((await first.stop({ keepDataDir: true })).code, 0);
    }
    // A crash mid-write leaves half a line at the end of the file.
    await appendFile(join(dataDir, 'access.log'), '{"time":"2026-12-01T00:00:00.000Z","client":"10.0.0');

    const second = await startServe({ dataDir, args: ['--bind', '127.0.0.1'] });
    try {
      const before = await recentLog(second);
      assert.deepEqual(
        before.map((entry) => [entry.host, entry.path, entry.status]),
        [
          ...Array.from({ length: 5 }, (_, i) => ['logged.test', `/before/${i}`, 200]),
          ['nobody.test', '/unmatched', 404],
        ],
        'the old entries, oldest first, before any new request',
      );
      assert.deepEqual((await recentLog(second, 2)).map((entry) => entry.path), ['/before/4', '/unmatched'], 'limit takes the newest');

      assert.equal((await requestThrough(second.proxyPort!, 'logged.test', '/after')).status, 200);
      const after = await recentLog(second);
      assert.equal(after.length, 7);
      assert.equal(after.at(-1)?.path, '/after', 'new requests come after the old ones');
    } finally {
      await second.stop({ keepDataDir: true });
    }
  } finally {
    await upstream.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
