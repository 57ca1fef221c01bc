// The admin server's static files, against a renderer directory made here: content types, caching,
// HEAD, the security headers, and no way out of the directory (.., encoded slashes, symlinks).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { AdminServer, SECURITY_HEADERS } from '../../src-main/headless/admin-server.js';
import { makeDataDir } from '../helpers/serve.js';

/** A raw GET, so paths reach the server exactly as written (fetch would normalize ".."). */
function rawGet(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin server static files', () => {
  let dataDir: string;
  let rendererDir: string;
  let outside: string;
  let gateway: Gateway;
  let admin: AdminServer;
  let port: number;

  before(async () => {
    dataDir = await makeDataDir();
    const base = await mkdtemp(join(tmpdir(), 'gatehouse-static-'));
    rendererDir = join(base, 'renderer');
    outside = join(base, 'secret.txt');
    await mkdir(join(rendererDir, 'assets'), { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Gatehouse</title>');
    await writeFile(join(rendererDir, 'assets', 'app-abc123.js'), 'console.log(1)');
    await writeFile(join(rendererDir, 'assets', 'app-abc123.css'), 'body{}');
    await writeFile(join(rendererDir, 'icon.svg'), '<svg/>');
    await writeFile(outside, 'top secret');
    await symlink(outside, join(rendererDir, 'link.txt'));
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0 } });
    admin = new AdminServer({ gateway, token: 't'.repeat(43), rendererDir });
    port = (await admin.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await admin.close();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(join(rendererDir, '..'), { recursive: true, force: true });
  });

  test('index.html at /, assets with their types and caching, all with the security headers', async () => {
    const index = await rawGet(port, '/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(index.body, /<title>Gatehouse/);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(index.headers[name], value, name);

    const script = await rawGet(port, '/assets/app-abc123.js');
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(String(script.headers['cache-control']), /immutable/);
    assert.equal((await rawGet(port, '/assets/app-abc123.css')).headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await rawGet(port, '/icon.svg')).headers['content-type'], 'image/svg+xml');

    const head = await rawGet(port, '/', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await rawGet(port, '/', 'POST')).status, 405);
  });

  test('nothing outside the renderer directory is served', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/link.txt', '/assets', '/missing.js', '/a%00b']) {
      const answer = await rawGet(port, path);
      assert.equal(answer.status, 404, path);
      assert.doesNotMatch(answer.body, /top secret/, path);
    }
  });
});
