// Upstreams over https: a self-signed certificate (made here by openssl) is refused with a 502 that
// tells the user which switch to turn on, unless the route has `insecureUpstreamTls`; then requests
// pass over TLS and reuse their pooled connections like plain http ones.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { needTools } from '../helpers/tools.js';
import { fetchThrough, route, selfSignedCert, startProxy, startServer, type RunningProxy, type TestServer } from '../helpers/proxy-harness.js';

interface Seen {
  url: string;
  host: string | undefined;
  forwardedProto: string | undefined;
  encrypted: boolean;
}

/** Answers with what it saw, including whether the request came over TLS. */
function recording(seen: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const entry = {
      url: req.url ?? '',
      host: req.headers.host,
      forwardedProto: req.headers['x-forwarded-proto'] as string | undefined,
      encrypted: (req.socket as TLSSocket).encrypted === true,
    };
    seen.push(entry);
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  };
}

const skip = needTools('openssl');

describe('https upstreams', { skip }, () => {
  let dir: string;
  let tls: TestServer;
  let plain: TestServer;
  let proxy: RunningProxy;
  const tlsSeen: Seen[] = [];
  const plainSeen: Seen[] = [];
  const client = new Agent();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-tls-'));
    const cert = await selfSignedCert(dir);
    tls = await startServer(recording(tlsSeen), { tls: cert });
    plain = await startServer(recording(plainSeen));
    proxy = await startProxy([
      route('strict', tls.url, ['strict.test'], { title: 'Proxmox' }),
      route('lenient', tls.url, ['lenient.test'], { insecureUpstreamTls: true }),
      route('plain', plain.url, ['plain.test']),
      // Says https, but the service speaks plain http.
      route('wrong-scheme', plain.url.replace('http:', 'https:'), ['wrong.test'], { insecureUpstreamTls: true }),
    ]);
  });

  after(async () => {
    await proxy?.stop();
    await client.close();
    await Promise.all([tls?.close(), plain?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a self-signed upstream certificate is refused with 502 upstream_tls, pointing to the self-signed option', async () => {
    const res = await fetchThrough(client, proxy.port, 'strict.test', '/secret', { headers: { accept: 'text/plain' } });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-gatehouse-error'], 'upstream_tls');
    assert.match(res.text, /Proxmox/);
    assert.match(res.text, /self-signed certificate/i);
    assert.match(res.text, /Backend uses a self-signed certificate/);
    assert.equal(tlsSeen.length, 0, 'a request reached the upstream over an unverified connection');
    const html = await fetchThrough(client, proxy.port, 'strict.test', '/', { headers: { accept: 'text/html' } });
    assert.equal(html.status, 502);
    assert.match(html.text, /<h1>Proxmox is not available right now\.<\/h1>/);
    assert.match(html.text, /<h2>Service certificate rejected<\/h2>/);
    const entry = await proxy.nextLogged((e) => e.path === '/secret');
    assert.equal(entry.status, 502);
    assert.equal(entry.error, 'upstream_tls');
  });

  test('with insecureUpstreamTls the same upstream answers over TLS, Host preserved', async () => {
    const res = await fetchThrough(client, proxy.port, 'lenient.test', '/over-tls?x=1');
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.text) as Seen;
    assert.equal(seen.encrypted, true);
    assert.equal(seen.url, '/over-tls?x=1');
    assert.equal(seen.host, 'lenient.test');
    // The client spoke plain http to Gatehouse; the upstream hop's scheme does not change that.
    assert.equal(seen.forwardedProto, 'http');
  });

  test('turning insecureUpstreamTls on for a route applies to its next request', async () => {
    const before = await fetchThrough(client, proxy.port, 'strict.test', '/');
    assert.equal(before.status, 502);
    proxy.engine.setRoutes([
      route('strict', tls.url, ['strict.test'], { title: 'Proxmox', insecureUpstreamTls: true }),
      route('lenient', tls.url, ['lenient.test'], { insecureUpstreamTls: true }),
      route('plain', plain.url, ['plain.test']),
      route('wrong-scheme', plain.url.replace('http:', 'https:'), ['wrong.test'], { insecureUpstreamTls: true }),
    ]);
    const after = await fetchThrough(client, proxy.port, 'strict.test', '/now-allowed');
    assert.equal(after.status, 200);
    assert.equal((JSON.parse(after.text) as Seen).encrypted, true);
  });

  test('a plain http upstream answers over http', async () => {
    const res = await fetchThrough(client, proxy.port, 'plain.test', '/plain');
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.text) as Seen).encrypted, false);
  });

  test('an https route to a plain-http service fails with 502 upstream_tls suggesting http://', async () => {
    const before = plainSeen.length;
    const res = await fetchThrough(client, proxy.port, 'wrong.test', '/');
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-gatehouse-error'], 'upstream_tls');
    assert.match(res.text, /use http:\/\//);
    assert.equal(plainSeen.length, before);
  });

  test('requests to an https upstream reuse pooled TLS connections', async () => {
    const connectionsBefore = tls.connections;
    for (let i = 0; i < 30; i++) {
      const res = await fetchThrough(client, proxy.port, 'lenient.test', `/pooled/${i}`);
      assert.equal(res.status, 200);
    }
    const opened = tls.connections - connectionsBefore;
    assert.ok(opened <= 1, `30 sequential requests opened ${opened} new TLS connections`);
  });
});
