// A passed-through route holds no certificate of Gatehouse's (the certificate service issues none,
// shows it as passed through with nothing wrong, and refuses to "renew" it with words that say
// why), and its active health check is a TCP connect whatever kind is set: an HTTP check cannot talk
// reliably to a port that speaks TLS with the service's own (here self-signed) certificate, which the
// same check on a terminated route shows by failing.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Route, RouteTls } from '../../shared/model.js';
import type { RouteHealth } from '../../shared/status.js';
import { defaultHealthCheck } from '../../shared/upstreams.js';
import { CertificateService } from '../../src-main/core/certs/certificate-service.js';
import { UpstreamHealth } from '../../src-main/core/upstreams/health.js';
import { routeCertificateStateText, routeHttpsText } from '../../src-renderer/certificates/format.js';
import { startPassthroughUpstream, type PassthroughUpstream } from '../helpers/passthrough-upstream.js';
import { route, waitUntil } from '../helpers/proxy-harness.js';
import { needTools } from '../helpers/tools.js';

const skip = needTools('openssl');
const PASS: RouteTls = { mode: 'passthrough', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'v2' };
const LOCAL: RouteTls = { ...PASS, mode: 'local', proxyProtocol: 'off' };

let dir: string;
let upstream: PassthroughUpstream;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-pass-certs-'));
  if (!skip) upstream = await startPassthroughUpstream(dir, 'pve', { names: ['pve.test'] });
});
after(async () => {
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the certificate service issues nothing for a passed-through route and shows it as passed through', async () => {
  const service = await CertificateService.open({ dataDir: join(dir, 'data'), onChange: () => {}, spareKeys: 0 });
  try {
    const routes: Route[] = [route('pve', 'https://10.0.0.5:8006', ['pve.home.arpa'], { tls: PASS }), route('app', 'http://10.0.0.6', ['app.home.arpa'], { tls: LOCAL })];
    await service.setRoutes(routes);
    assert.equal(service.certificateFor('pve'), null, 'no certificate of Gatehouse\'s: the upstream presents its own');
    assert.ok(service.certificateFor('app'), 'the local-CA route next to it got its leaf');
    const shown = service.routeCertificates().find((cert) => cert.routeId === 'pve')!;
    assert.deepEqual([shown.mode, shown.state, shown.problem, shown.fingerprintSha256], ['passthrough', 'none', null, null]);
    const leaves = await readdir(join(dir, 'data', 'certs')).catch(() => [] as string[]);
    assert.ok(!leaves.some((entry) => entry.includes('pve')), `no leaf stored for it: ${leaves.join(', ')}`);
    await assert.rejects(service.renew('pve', routes), (error: Error & { code?: string }) => error.code === 'conflict' && /passes TLS through/.test(error.message));
    assert.equal(routeCertificateStateText(shown, new Date()), 'Passed through: the service presents its own certificate');
    assert.match(routeHttpsText(shown, 'passthrough', new Date()), /passed through/);
  } finally {
    service.close();
  }
});

test('the active check of a passed-through route is a TCP connect, whatever kind is set', { skip }, async () => {
  const events: RouteHealth[][] = [];
  const health: UpstreamHealth = new UpstreamHealth({ onChange: () => events.push(health.snapshot()), intervalMs: 100, timeoutMs: 1000, jitterMs: 0 });
  try {
    // An HTTP check that only a 200 with "ok" passes: over TLS with a self-signed certificate it cannot.
    const check = defaultHealthCheck();
    check.active = { ...check.active, kind: 'http', path: '/health', statusFrom: 200, statusTo: 200, bodyContains: 'never-there', fails: 1, passes: 1 };
    // Two routes on two addresses of the same server (127.0.0.1 and localhost) so each gets its own check.
    const url = upstream.url;
    const terminatedUrl = `https://localhost:${upstream.port}`;
    health.setRoutes([
      route('pve', url, ['pve.test'], { tls: PASS, healthCheck: check }),
      route('control', terminatedUrl, ['control.home.arpa'], { tls: LOCAL, healthCheck: check }),
    ]);
    const of = (id: string) => health.snapshot().find((entry) => entry.routeId === id)?.upstreams[0];
    await waitUntil(() => of('pve')?.lastCheck != null && of('control')?.lastCheck != null, 10_000, 'a check of both');
    await waitUntil(() => of('pve')?.state === 'up' && of('control')?.state === 'down', 10_000, 'pve up, the control down');
    assert.equal(of('pve')?.lastCheck?.check, 'TCP connect');
    assert.equal(of('pve')?.lastCheck?.passed, true);
    assert.equal(of('control')?.lastCheck?.check, 'GET /health');
    assert.equal(of('control')?.lastCheck?.passed, false);
  } finally {
    health.close();
  }
});
