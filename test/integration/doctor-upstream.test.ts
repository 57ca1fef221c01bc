// The route doctor's upstream step against real servers that answer like the apps (test/fixtures/apps):
// the app the route names answers → passed with the evidence; another app answers → "this looks like
// Plex, not Jellyfin"; nothing listens → refused, and the app is not judged; an appliance's
// self-signed HTTPS fails unless the route skips verification, as the proxy itself would.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { parseInput } from '../../shared/api.js';
import type { DoctorReport } from '../../shared/insight.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { startFakeApp, type FakeApp } from '../helpers/fake-apps.js';
import { call, rejectsWith } from '../helpers/gateway-calls.js';
import { freePort } from '../helpers/ports.js';
import { makeDataDir } from '../helpers/serve.js';

function checkOf(report: DoctorReport, id: string) {
  const found = report.checks.find((check) => check.id === id);
  assert.ok(found, `no check ${id} in ${report.checks.map((check) => check.id).join(', ')}`);
  return found;
}

describe('the doctor asks the upstream', () => {
  let gateway: Gateway;
  let dataDir: string;
  let jellyfin: FakeApp;
  let plex: FakeApp;
  let proxmox: FakeApp;

  before(async () => {
    dataDir = await makeDataDir();
    [jellyfin, plex, proxmox] = await Promise.all([startFakeApp('jellyfin'), startFakeApp('plex'), startFakeApp('proxmox-ve')]);
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, mdnsEnvironment: 'off' });
    await call(gateway, 'startProxy');
  });
  after(async () => {
    await gateway?.close();
    await Promise.all([jellyfin?.close(), plex?.close(), proxmox?.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the expected app answers', async () => {
    const route = await call(gateway, 'addRoute', { names: ['jellyfin.home.arpa'], upstream: `http://127.0.0.1:${jellyfin.port}`, app: 'jellyfin' });
    const report = await call(gateway, 'runDoctor', { routeId: route.id });
    const answers = checkOf(report, `upstream:http://127.0.0.1:${jellyfin.port}`);
    assert.equal(answers.state, 'pass');
    assert.match(answers.says, /It answers: HTTP 302 in \d+ ms/, 'Jellyfin redirects / to its web app');
    const app = checkOf(report, 'upstream:app');
    assert.equal(app.state, 'pass', app.says);
    assert.equal(app.title, 'It is Jellyfin');
    assert.match(app.says, /answers like Jellyfin/);
    assert.ok(jellyfin.requests.length > 0, 'the fake app was really asked');
  });

  test('another app answers: "this looks like Plex, not Jellyfin"', async () => {
    const route = await call(gateway, 'addRoute', { names: ['media.home.arpa'], upstream: `http://127.0.0.1:${plex.port}`, app: 'jellyfin' });
    const report = await call(gateway, 'runDoctor', { routeId: route.id });
    assert.equal(checkOf(report, `upstream:http://127.0.0.1:${plex.port}`).state, 'pass', 'it answers…');
    const app = checkOf(report, 'upstream:app');
    assert.equal(app.state, 'fail');
    assert.match(app.says, /^This looks like Plex Media Server, not Jellyfin/);
    assert.match(app.fix ?? '', /Point the route at Jellyfin's address and port/);
    assert.equal(report.verdict, 'broken');
  });

  test('nothing listens: refused, and which app it is is not judged', async () => {
    const port = await freePort();
    const route = await call(gateway, 'addRoute', { names: ['gone.home.arpa'], upstream: `http://127.0.0.1:${port}`, app: 'jellyfin' });
    const report = await call(gateway, 'runDoctor', { routeId: route.id });
    const answers = checkOf(report, `upstream:http://127.0.0.1:${port}`);
    assert.equal(answers.state, 'fail');
    assert.match(answers.says, /Nothing listens at 127\.0\.0\.1:\d+: the connection was refused/);
    assert.match(answers.fix ?? '', /Start the service/);
    const app = checkOf(report, 'upstream:app');
    assert.equal(app.state, 'skipped');
    assert.match(app.says, /No upstream answered/);
  });

  test('a self-signed appliance fails unless the route skips verification, as the proxy would', async () => {
    const url = `https://127.0.0.1:${proxmox.port}`;
    const strict = await call(gateway, 'addRoute', { names: ['pve.home.arpa'], upstream: url, app: 'proxmox-ve' });
    const refused = checkOf(await call(gateway, 'runDoctor', { routeId: strict.id }), `upstream:${url}`);
    assert.equal(refused.state, 'fail');
    assert.match(refused.says, /its certificate does not verify \(DEPTH_ZERO_SELF_SIGNED_CERT\), so the proxy refuses it/);
    assert.match(refused.fix ?? '', /Accept the upstream's certificate without verifying/);

    const relaxed = await call(gateway, 'addRoute', { names: ['pve2.home.arpa'], upstream: url, app: 'proxmox-ve', insecureUpstreamTls: true });
    const report = await call(gateway, 'runDoctor', { routeId: relaxed.id });
    assert.equal(checkOf(report, `upstream:${url}`).state, 'pass');
    assert.equal(checkOf(report, 'upstream:app').state, 'pass', checkOf(report, 'upstream:app').says);
  });
});

describe('the doctor judges the caller', () => {
  test('without a visitor, the caller’s address is judged (IPv4-mapped form unwrapped); without either, a typical internet address', async () => {
    const dataDir = await makeDataDir();
    const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, mdnsEnvironment: 'off' });
    try {
      const route = await call(gateway, 'addRoute', { names: ['who.home.arpa'], upstream: 'http://127.0.0.1:9' });
      const input = parseInput('runDoctor', { routeId: route.id });
      const fromLan = await gateway.handlers.runDoctor(input, { client: { address: '::ffff:192.168.7.20', headers: {} } });
      assert.equal(fromLan.visitor, '192.168.7.20');
      const lanCheck = checkOf(fromLan, 'access:visitor');
      assert.equal(lanCheck.state, 'pass');
      assert.match(lanCheck.says, /192\.168\.7\.20 \(on this network\) would be let in/);

      const fromInternet = await gateway.handlers.runDoctor(input, { client: { address: '198.51.100.30', headers: {} } });
      const refused = checkOf(fromInternet, 'access:visitor');
      assert.equal(refused.state, 'fail', 'a named visitor who is refused is why it does not work for them');
      assert.match(refused.says, /198\.51\.100\.30.* would be refused: /);
      assert.match(refused.fix ?? '', /exposure to "Everyone"/);

      const desktop = await gateway.handlers.runDoctor(input);
      assert.equal(desktop.visitor, '203.0.113.10');
      const typical = checkOf(desktop, 'access:visitor');
      assert.equal(typical.state, 'pass');
      assert.match(typical.says, /^A visitor from the internet \(judged as 203\.0\.113\.10\) would be refused: .*That is what the route's access rules ask/);

      await rejectsWith(call(gateway, 'runDoctor', { routeId: 'nope' }), 'not_found');
    } finally {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
