// Active health checks on real servers (127.0.0.x): what passes and what fails, and the words the
// dashboard shows for it. A Plex-like server answering 401 on / stays up; a check on the wrong path
// of an SPA (200 + index.html for every path) is caught by the expected text, which the reason
// names; thresholds, timeouts, TCP checks, self-signed HTTPS, the Host header, one check per address
// shared by two routes, and no event while nothing visible changes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RouteHealth, UpstreamHealth as UpstreamReport } from '../../shared/status.js';
import { presets } from '../../src-main/core/discovery/presets.js';
import { UpstreamHealth } from '../../src-main/core/upstreams/health.js';
import { answer, healthCheck, HealthUpstream } from '../helpers/health-upstream.js';
import { route, selfSignedCert, sleep, waitUntil } from '../helpers/proxy-harness.js';

const servers: HealthUpstream[] = [];
const checkers: UpstreamHealth[] = [];
after(async () => {
  for (const checker of checkers) checker.close();
  await Promise.all(servers.map((server) => server.stop()));
});

async function upstream(answerWith: HealthUpstream['answer'], host = '127.0.0.1', tls?: { key: string; cert: string }): Promise<HealthUpstream> {
  const server = await new HealthUpstream(answerWith, host, tls).start();
  servers.push(server);
  return server;
}

/** A checker every 100 ms (timeout 400 ms), counting its health events. */
function checker(options: { intervalMs?: number; timeoutMs?: number } = {}) {
  const events: RouteHealth[][] = [];
  const health: UpstreamHealth = new UpstreamHealth({
    onChange: () => events.push(health.snapshot()),
    intervalMs: options.intervalMs ?? 100,
    timeoutMs: options.timeoutMs ?? 400,
    jitterMs: 0,
  });
  checkers.push(health);
  return { health, events };
}

const routeOf = (health: UpstreamHealth, id: string) => health.snapshot().find((entry) => entry.routeId === id) as RouteHealth;
const first = (health: UpstreamHealth, id: string) => routeOf(health, id).upstreams[0] as UpstreamReport;

/** Every check's result of a route's first upstream (told apart by its time), polled until `done` says so. */
async function checksUntil(health: UpstreamHealth, id: string, done: (seen: readonly { passed: boolean; state: string }[]) => boolean): Promise<{ passed: boolean; state: string }[]> {
  const seen: { at: string; passed: boolean; state: string }[] = [];
  await waitUntil(
    () => {
      const report = first(health, id);
      const check = report.lastCheck;
      if (check && seen.at(-1)?.at !== check.at) seen.push({ at: check.at, passed: check.passed, state: report.state });
      return done(seen);
    },
    10_000,
    'the checks',
  );
  return seen.map(({ passed, state }) => ({ passed, state }));
}

const plexIdentity = '<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" claimed="1" machineIdentifier="abc123" version="1.40.0"> </MediaContainer>';
const plexLike: HealthUpstream['answer'] = (req, res) => (req.url === '/identity' ? answer(200, plexIdentity)(req, res) : answer(401, '<html><head><title>Unauthorized</title></head></html>')(req, res));
const spaIndex = '<!doctype html>\n<html><head><title>My App</title></head><body><div id="app"></div></body></html>';

describe('active health checks', () => {
  test('a Plex-like server answering 401 on / stays up under the default check', async () => {
    const plex = await upstream(plexLike, '127.0.0.2');
    const { health } = checker();
    health.setRoutes([route('plex', plex.url, ['plex.test'], { title: 'Plex' })]);
    await waitUntil(() => routeOf(health, 'plex').state === 'up', 5000, 'Plex up');
    const report = first(health, 'plex');
    assert.equal(report.lastCheck?.check, 'GET /');
    assert.equal(report.lastCheck?.status, 401);
    assert.equal(report.lastCheck?.passed, true);
    assert.equal(report.lastCheck?.error, null);
    assert.equal(report.problem, null);
    assert.equal(report.available, true);
  });

  test("Plex's preset check asks /identity and reads its answer", async () => {
    const plex = await upstream(plexLike, '127.0.0.2');
    const presetCheck = presets.find((preset) => preset.id === 'plex')?.healthCheck;
    assert.ok(presetCheck, 'the Plex preset carries a check');
    const { health } = checker();
    health.setRoutes([route('plex', plex.url, ['plex.test'], { healthCheck: healthCheck(presetCheck) })]);
    await waitUntil(() => routeOf(health, 'plex').state === 'up', 5000, 'Plex up');
    const check = first(health, 'plex').lastCheck;
    assert.equal(check?.check, 'GET /identity');
    assert.equal(check?.status, 200);
    assert.ok(check?.bodyExcerpt?.startsWith('<?xml version="1.0" encoding="UTF-8"?>·<MediaContainer'), `control characters replaced: ${check?.bodyExcerpt}`);
    assert.ok((check?.bodyExcerpt?.length ?? 0) <= 200);
    assert.ok(plex.hitsOf('/identity') >= 1 && plex.hitsOf('/') === 0, 'only the check path is asked');
    assert.ok(typeof check?.latencyMs === 'number' && check.latencyMs >= 0);
  });

  test('a check on the wrong path of an SPA passes on status alone, and the expected text catches it with the reason shown', async () => {
    const spa = await upstream(answer(200, spaIndex), '127.0.0.3');
    const { health } = checker();
    health.setRoutes([
      route('loose', spa.url, ['loose.test'], { healthCheck: healthCheck({ path: '/health', fails: 1 }) }),
    ]);
    await waitUntil(() => routeOf(health, 'loose').state === 'up', 5000, 'the status-only check to pass');

    health.setRoutes([route('strict', spa.url, ['strict.test'], { title: 'Jellyfin', healthCheck: healthCheck({ path: '/health', bodyContains: 'Healthy', fails: 1 }) })]);
    await waitUntil(() => routeOf(health, 'strict').state === 'down', 5000, 'the body check to fail');
    const report = first(health, 'strict');
    assert.equal(report.lastCheck?.status, 200);
    assert.equal(report.lastCheck?.error, 'the body did not contain "Healthy"');
    assert.ok(report.lastCheck?.bodyExcerpt?.startsWith('<!doctype html>·<html>'));
    assert.equal(report.problem?.message, 'The check GET /health failed: the body did not contain "Healthy".');
    assert.match(report.problem?.fix ?? '', /the check may be wrong/);
    assert.equal(report.available, false);
    const routeProblem = routeOf(health, 'strict').problem;
    assert.equal(routeProblem?.message, `Jellyfin at ${spa.address} is down. The check GET /health failed: the body did not contain "Healthy".`);
  });

  test('unknown before the first check; down after `fails` failures in a row, up after `passes` passes', async () => {
    let status = 200;
    const app = await upstream((req, res) => answer(status, 'ok')(req, res), '127.0.0.4');
    const { health } = checker({ intervalMs: 150 });
    health.setRoutes([route('app', app.url, ['app.test'], { healthCheck: healthCheck({ fails: 3, passes: 2 }) })]);
    assert.equal(routeOf(health, 'app').state, 'unknown');
    assert.equal(first(health, 'app').since, null);
    assert.deepEqual(await checksUntil(health, 'app', (seen) => seen.length >= 2), [
      { passed: true, state: 'unknown' },
      { passed: true, state: 'up' },
    ]);
    status = 503;
    const failing = (await checksUntil(health, 'app', (seen) => seen.at(-1)?.state === 'down')).filter((check) => !check.passed);
    assert.deepEqual(failing.map((check) => check.state), ['up', 'up', 'down'], 'down on the third failure in a row');
    assert.equal(first(health, 'app').lastCheck?.error, 'answered 503; expected 200–499');
    status = 204;
    const passing = (await checksUntil(health, 'app', (seen) => seen.at(-1)?.state === 'up')).filter((check) => check.passed);
    assert.deepEqual(passing.map((check) => check.state), ['down', 'up'], 'up on the second pass in a row');
  });

  test('a check not answered in time fails with its timeout in words; a refused one says so', async () => {
    const hung = await upstream(() => {}, '127.0.0.5');
    const { health } = checker({ timeoutMs: 300 });
    health.setRoutes([route('hung', hung.url, ['hung.test'], { healthCheck: healthCheck({ fails: 1 }) })]);
    await waitUntil(() => routeOf(health, 'hung').state === 'down', 5000, 'the hung service down');
    assert.equal(first(health, 'hung').lastCheck?.error, 'timed out after 0.3 s');
    assert.ok((first(health, 'hung').lastCheck?.latencyMs ?? 0) >= 250);

    await hung.stop();
    await waitUntil(() => first(health, 'hung').lastCheck?.error === 'refused the connection', 5000, 'refused');
  });

  test('a TCP check passes while the port accepts connections, and says "TCP connect"', async () => {
    const app = await upstream(answer(500, 'broken'), '127.0.0.6');
    const { health } = checker();
    health.setRoutes([route('tcp', app.url, ['tcp.test'], { healthCheck: healthCheck({ kind: 'tcp', passes: 1, fails: 1 }) })]);
    await waitUntil(() => routeOf(health, 'tcp').state === 'up', 5000, 'up: it accepts connections, whatever it answers');
    assert.equal(first(health, 'tcp').lastCheck?.check, 'TCP connect');
    assert.equal(first(health, 'tcp').lastCheck?.status, null);
    await app.stop();
    await waitUntil(() => routeOf(health, 'tcp').state === 'down', 5000, 'down');
    assert.equal(first(health, 'tcp').lastCheck?.error, 'refused the connection');
  });

  describe('https upstreams', () => {
    let dir = '';
    let tls: { key: string; cert: string };
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gatehouse-health-'));
      tls = await selfSignedCert(dir);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    test('a self-signed certificate fails unless the route accepts it', async () => {
      const nas = await upstream(answer(200, 'ok'), '127.0.0.1', tls);
      const { health } = checker();
      health.setRoutes([route('nas', nas.url, ['nas.test'], { healthCheck: healthCheck({ fails: 1, passes: 1 }) })]);
      await waitUntil(() => routeOf(health, 'nas').state === 'down', 5000, 'down: certificate not trusted');
      assert.equal(
        first(health, 'nas').lastCheck?.error,
        "certificate not trusted (self-signed); turn on 'accept a self-signed certificate' for this route if that is expected",
      );
      health.setRoutes([route('nas', nas.url, ['nas.test'], { insecureUpstreamTls: true, healthCheck: healthCheck({ fails: 1, passes: 1 }) })]);
      await waitUntil(() => routeOf(health, 'nas').state === 'up', 5000, 'up once the route accepts it');
      assert.equal(first(health, 'nas').lastCheck?.status, 200);
    });
  });

  test('the check sends Host as a real request would: the rewritten Host, else the first exact name, else the address', async () => {
    const app = await upstream(answer(200, 'ok'), '127.0.0.7');
    const { health } = checker();
    health.setRoutes([route('app', app.url, ['*.apps.test', 'app.test'])]);
    await waitUntil(() => app.hosts.length >= 1, 5000, 'a check');
    assert.equal(app.hosts[0], 'app.test', 'a wildcard names no host; the first exact name is sent');
    health.setRoutes([route('app', app.url, ['*.apps.test'])]);
    await waitUntil(() => app.hosts.at(-1) === app.address, 5000, 'the address, with only a wildcard name');
    health.setRoutes([route('app', app.url, ['app.test'], { rewriteHost: 'internal.lan' })]);
    await waitUntil(() => app.hosts.at(-1) === 'internal.lan', 5000, 'the rewritten Host');
  });

  test("an upstream behind a name-based router (a NAS's own reverse proxy) passes its check as the site works", async () => {
    // Like a NAS's reverse proxy: it serves its sites by name and answers 502 to a name it does not know.
    const router = await upstream((req, res) => {
      const known = req.headers.host === 'photos.nas.test';
      res.writeHead(known ? 200 : 502, { 'content-type': 'text/plain' });
      res.end(known ? 'photos' : 'no such site');
    }, '127.0.0.7');
    const { health } = checker();
    health.setRoutes([route('photos', router.url, ['*.photos.test', 'photos.nas.test'], { healthCheck: healthCheck({ fails: 1, passes: 1 }) })]);
    await waitUntil(() => first(health, 'photos').lastCheck !== null, 5000, 'a check');
    const check = first(health, 'photos').lastCheck;
    assert.equal(check?.status, 200, `the router routed the check to the site (it says: ${check?.error})`);
    assert.equal(routeOf(health, 'photos').state, 'up');
    assert.ok(router.hosts.every((host) => host === 'photos.nas.test'), `Host sent: ${router.hosts.join(', ')}`);
  });

  test('two routes on one address share one check (the first route’s) and one state', async () => {
    const shared = await upstream(answer(200, 'ok'), '127.0.0.8');
    const { health } = checker();
    health.setRoutes([
      route('off', shared.url, ['off.test'], { enabled: false, healthCheck: healthCheck({ path: '/disabled' }) }),
      route('nocheck', shared.url, ['nocheck.test'], { healthCheck: healthCheck({ enabled: false }) }),
      route('a', shared.url, ['a.test'], { healthCheck: healthCheck({ path: '/a' }) }),
      route('b', shared.url, ['b.test'], { healthCheck: healthCheck({ path: '/b' }) }),
    ]);
    await waitUntil(() => routeOf(health, 'a').state === 'up', 5000, 'up');
    await sleep(300);
    assert.equal(health.checkRouteOf(shared.address), 'a');
    assert.ok(shared.hitsOf('/a') >= 2);
    assert.equal(shared.hitsOf('/b') + shared.hitsOf('/disabled'), 0, 'one check per address');
    const [off, nocheck, a, b] = health.snapshot();
    assert.equal(b?.state, 'up');
    assert.equal(nocheck?.state, 'up', 'a route without a check of its own shows the address’s state');
    assert.equal(a?.upstreams[0]?.since, b?.upstreams[0]?.since, 'one state for one address');
    assert.equal(off?.state, 'unknown', 'a disabled route is unknown');

    shared.answer = answer(503, 'maintenance');
    await waitUntil(() => routeOf(health, 'b').state === 'down', 5000, 'down for both');
    assert.equal(routeOf(health, 'a').state, 'down');
    assert.equal(routeOf(health, 'nocheck').state, 'down');
  });

  test('turning the check off forgets what it found: traffic decides from then on', async () => {
    const app = await upstream(answer(503, 'down for maintenance'), '127.0.0.16');
    const { health } = checker();
    health.setRoutes([route('app', app.url, ['app.test'], { healthCheck: healthCheck({ fails: 1 }) })]);
    await waitUntil(() => routeOf(health, 'app').state === 'down', 5000, 'down by its check');
    assert.equal(health.isAvailable(app.address), false);
    health.setRoutes([route('app', app.url, ['app.test'], { healthCheck: healthCheck({ enabled: false }) })]);
    const report = first(health, 'app');
    assert.deepEqual([report.state, report.since, report.lastCheck, report.problem], ['unknown', null, null, null]);
    assert.equal(health.isAvailable(app.address), true);
    health.answered('app', app.address, 503);
    await sleep(0);
    assert.equal(first(health, 'app').state, 'up', 'a 503 is an answer when server errors do not count');
  });

  test('checks that find nothing new send no event; a removed address is not checked any more', async () => {
    const kept = await upstream(answer(200, 'ok'), '127.0.0.9');
    const dropped = await upstream(answer(200, 'ok'), '127.0.0.10');
    const { health, events } = checker();
    health.setRoutes([route('kept', kept.url, ['kept.test']), route('dropped', dropped.url, ['dropped.test'])]);
    await waitUntil(() => health.snapshot().every((entry) => entry.state === 'up'), 5000, 'both up');
    const reported = events.length;
    const checks = kept.hitsOf('/');
    await waitUntil(() => kept.hitsOf('/') >= checks + 5, 5000, 'several more checks');
    assert.equal(events.length, reported, 'checks that find the same state send no event');

    health.setRoutes([route('kept', kept.url, ['kept.test'])]);
    assert.deepEqual(health.snapshot().map((entry) => entry.routeId), ['kept']);
    assert.equal(events.length, reported + 1, 'the removal is reported');
    const droppedChecks = dropped.hitsOf('/');
    await sleep(400);
    assert.ok(dropped.hitsOf('/') <= droppedChecks + 1, 'the removed address is not checked (one under way may land)');

    health.close();
    const afterClose = kept.hitsOf('/');
    await sleep(300);
    assert.ok(kept.hitsOf('/') <= afterClose + 1, 'close stops the checks');
  });
});
