// "Probe a host" against fake apps on 127.0.0.1: exactly the open ports come back, in port order,
// identified; closed ports are left out; a port that accepts TCP but speaks no HTTP is open with no
// scheme; abort stops it. Durations are diagnostics only (the 3 s target is benchmarked).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { COMMON_PORTS, probeHost } from '../../src-main/core/discovery/probe-host.js';
import { presets } from '../../src-main/core/discovery/presets.js';
import { startFakeApp, startTcpServer } from '../helpers/fake-apps.js';
import { freePort } from '../helpers/ports.js';

const running: { close(): Promise<void> }[] = [];
after(() => Promise.all(running.map((server) => server.close())));

/** A TCP port that accepts connections and never says a word. */
async function silentPort(): Promise<number> {
  const server = await startTcpServer();
  running.push(server);
  return server.port;
}

test('the usual port list is documented, short, sorted and covers every preset\'s usual port', () => {
  assert.ok(COMMON_PORTS.length <= 40, `${COMMON_PORTS.length} ports`);
  assert.deepEqual([...COMMON_PORTS], [...new Set(COMMON_PORTS)].sort((a, b) => a - b), 'unique and in order');
  for (const preset of presets) assert.ok(COMMON_PORTS.includes(preset.defaultPorts[0]!), `${preset.app}'s usual port ${preset.defaultPorts[0]}`);
});

test('finds exactly the open ports, identifies them, and leaves closed ones out', async (t) => {
  const apps = await Promise.all(['jellyfin', 'proxmox-ve', 'home-assistant', 'adguard-home'].map((id) => startFakeApp(id)));
  running.push(...apps);
  const silent = await silentPort();
  const closed = [await freePort(), await freePort()];
  const ports = [...apps.map((app) => app.port), silent, ...closed];

  const probe = await probeHost('127.0.0.1', { ports });
  t.diagnostic(`${ports.length} ports on 127.0.0.1 in ${probe.tookMs} ms`);
  assert.equal(probe.address, '127.0.0.1');
  assert.equal(probe.portsTried, ports.length);
  const expected = [...apps.map((app) => ({ port: app.port, presetId: app.app, scheme: app.scheme })), { port: silent, presetId: null, scheme: null }].sort((a, b) => a.port - b.port);
  assert.deepEqual(
    probe.open.map((open) => ({ port: open.port, presetId: open.identification?.presetId ?? null, scheme: open.scheme })),
    expected,
  );
  assert.equal(probe.open.find((open) => open.port === silent)?.identification, null, 'accepted TCP but spoke no HTTP');
});

test('a closed port alone comes back empty; the whole usual list is tried (diagnostic timing)', async (t) => {
  const probe = await probeHost('127.0.0.1', { ports: [await freePort()] });
  assert.deepEqual(probe.open, []);
  const full = await probeHost('127.0.0.1');
  t.diagnostic(`the usual ${full.portsTried} ports on 127.0.0.1: ${full.tookMs} ms, ${full.open.length} open (${full.open.map((open) => open.port).join(', ')})`);
  assert.equal(full.portsTried, COMMON_PORTS.length);
});

test('abort stops a probe that is waiting on a silent port', async (t) => {
  const silent = await silentPort();
  const controller = new AbortController();
  const started = performance.now();
  const pending = probeHost('127.0.0.1', { ports: [silent], signal: controller.signal });
  setTimeout(() => controller.abort(new Error('probe cancelled')), 100);
  await assert.rejects(pending, /probe cancelled/);
  t.diagnostic(`rejected ${(performance.now() - started).toFixed(0)} ms after starting`);
  const aborted = AbortSignal.abort(new Error('already cancelled'));
  await assert.rejects(probeHost('127.0.0.1', { ports: [silent], signal: aborted }), /already cancelled/);
});
