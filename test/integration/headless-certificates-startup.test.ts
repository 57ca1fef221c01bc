// `gatehouse serve` and the certificates folder, as the user sees it on the terminal: the start-up
// lines name both listeners, and a local CA that cannot be used stops serve with the problem, what
// to do, exit code 2 and no stack trace, leaving the saved settings as they were.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeDataDir, runServeToExit, startServe } from '../helpers/serve.js';
import { waitFor } from '../helpers/raw-http.js';

const STACK_LINE = /^\s{4}at /m;

describe('serve and the certificates folder', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('the start-up lines give the HTTP and the HTTPS listener', async () => {
    const serve = await startServe();
    try {
      const { https } = (await (await serve.api('/api/proxy')).json()) as { https: { address: string; port: number } | null };
      assert.ok(https, 'the HTTPS listener runs');
      await waitFor(() => serve.stdout().includes('Stop with Ctrl+C.'), 'serve to print its start-up lines', 10_000);
      assert.match(serve.stdout(), new RegExp(`^Proxy: +listening on [0-9.:]+:${serve.proxyPort} \\(HTTP\\) and ${https.address.replace(/\./g, '\\.')}:${https.port} \\(HTTPS\\)$`, 'm'));
    } finally {
      await serve.stop();
    }
  });

  for (const [what, damage] of [
    ['a CA key that is not a key', (certs: string) => writeFile(join(certs, 'ca-key.pem'), 'this is not a key\n')],
    ['a CA key from another CA', (certs: string) => writeFile(join(certs, 'ca-key.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))],
    ['a CA certificate cut short', async (certs: string) => writeFile(join(certs, 'ca.pem'), (await readFile(join(certs, 'ca.pem'), 'utf8')).slice(0, 300))],
  ] as const) {
    test(`${what}: the problem and the fix, exit 2, no stack trace, settings untouched`, async () => {
      const dataDir = await makeDataDir();
      dirs.push(dataDir);
      const first = await startServe({ dataDir });
      try {
        const added = await first.api('/api/routes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ names: ['app.home.arpa'], upstream: '127.0.0.1:9', tls: { mode: 'local' } }) });
        assert.equal(added.status, 200, await added.text());
      } finally {
        await first.stop({ keepDataDir: true });
      }
      const settingsBefore = await readFile(join(dataDir, 'settings.json'), 'utf8');

      await damage(join(dataDir, 'certs'));
      const run = await runServeToExit({ dataDir });
      const output = run.stdout + run.stderr;
      assert.equal(run.code, 2, output);
      assert.match(run.stderr, /^gatehouse: .*(local CA|ca(-key)?\.pem)/m);
      assert.equal(run.stderr.match(/Restore/g)?.length, 1, `the fix is said once:\n${run.stderr}`);
      assert.match(run.stderr, new RegExp(`^Fix: Restore ${join(dataDir, 'certs').replace(/[/.]/g, '\\$&')} from a backup, or move it aside`, 'm'));
      assert.doesNotMatch(output, STACK_LINE);
      assert.equal(await readFile(join(dataDir, 'settings.json'), 'utf8'), settingsBefore, 'settings.json is unchanged');
    });
  }
});
