// What the dashboard says about streams (ports, upstream ranges, health in words, numbers in human
// units) and the app state that feeds it: the streams list read at start and kept live by the
// `streams` event, enable/disable, and removal with Undo; plus the first-run port check naming a
// stream's ports by its title.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import { defaultSettings } from '../../shared/model.js';
import type { StreamStatus } from '../../shared/streams.js';
import { FakeGatehouse } from '../../src-renderer/dev/fake-gatehouse.js';
import { sampleStream } from '../../src-renderer/dev/fake-streams.js';
import { agoText, bytesText, healthLine, lastCheckText, listenText, rangeMapping, STATE_TEXT, streamNumbers, upstreamText } from '../../src-renderer/streams/stream-words.js';

const { AppState } = await import('../../src-renderer/app/app-state.svelte.js');
const { Notices } = await import('../../src-renderer/app/notices.svelte.js');
/** Notices whose timers never fire: the test reads them, and the process does not wait for them. */
const quietNotices = () => new Notices({ setTimeout: () => 0, clearTimeout: () => {} });
const { PortChoice, portCheckLabel } = await import('../../src-renderer/pages/welcome/port-choice.svelte.js');

const now = new Date('2026-11-21T10:00:00.000Z');
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

function status(fields: Partial<StreamStatus> = {}): StreamStatus {
  return { streamId: 's', state: 'listening', problem: null, open: 0, total: 0, refused: 0, failed: 0, bytesIn: 0, bytesOut: 0, upstreams: [], health: 'unknown', ...fields };
}

describe('stream words', () => {
  it('writes bytes in SI units', () => {
    assert.equal(bytesText(0), '0 B');
    assert.equal(bytesText(950), '950 B');
    assert.equal(bytesText(1_234), '1.2 kB');
    assert.equal(bytesText(18_400_000), '18.4 MB');
    assert.equal(bytesText(1_240_000_000), '1.2 GB');
    assert.equal(bytesText(345_000_000), '345 MB');
  });

  it('writes the listen port, a range, and a range’s upstream ports', () => {
    assert.equal(listenText({ protocol: 'tcp', listenPort: 2222, listenPortEnd: null }), 'TCP 2222');
    assert.equal(listenText({ protocol: 'udp', listenPort: 27015, listenPortEnd: 27020 }), 'UDP 27015–27020');
    assert.equal(listenText({ protocol: 'ftp', listenPort: 2121, listenPortEnd: null }), 'FTP 2121');
    assert.equal(upstreamText('10.33.0.8:27015', 27015, 27020), '10.33.0.8:27015–27020');
    assert.equal(upstreamText('[fd00::8]:37015', 27015, 27020), '[fd00::8]:37015–37020');
    assert.equal(upstreamText('10.33.0.5:22', 2222, null), '10.33.0.5:22');
    assert.equal(rangeMapping(27015, 27020, '10.33.0.8:27015'), '27015–27020 → 10.33.0.8:27015–27020 (one to one)');
  });

  it('says how long ago a check was, and the health with its last check', () => {
    assert.equal(agoText(secondsAgo(2), now), 'just now');
    assert.equal(agoText(secondsAgo(12), now), '12 s ago');
    assert.equal(agoText(secondsAgo(240), now), '4 min ago');
    assert.equal(agoText(secondsAgo(3 * 3600), now), '3 h ago');
    const upstream = { address: '10.33.0.5:22', state: 'up' as const, since: null, active: true, lastCheck: { at: secondsAgo(5), passed: true, check: 'TCP connect', error: null, latencyMs: 1.4 } };
    assert.equal(lastCheckText(upstream, now), 'TCP connect passed in 1 ms, 5 s ago');
    assert.equal(lastCheckText({ ...upstream, lastCheck: { ...upstream.lastCheck, passed: false, error: 'connection refused' } }, now), 'TCP connect failed: connection refused, 5 s ago');
    const tcp = sampleStream({ id: 's', title: 'SSH', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] });
    assert.equal(healthLine(tcp, status({ health: 'up', upstreams: [upstream] }), now), 'Up, checked 5 s ago');
    assert.equal(healthLine(tcp, status(), now), 'Unknown: not checked yet');
    const udp = sampleStream({ id: 'u', title: 'WG', protocol: 'udp', listenPort: 51820, upstreams: ['10.33.0.9:51820'] });
    assert.equal(healthLine(udp, status(), now), 'Unknown: UDP has no connect; add a probe to check it');
  });

  it('counts connections for TCP and sessions for UDP, with grouping', () => {
    const udp = streamNumbers({ protocol: 'udp' }, status({ open: 14, total: 90_211, refused: 3, bytesIn: 6_300_000, bytesOut: 21_800_000 }));
    assert.deepEqual(udp, { open: '14', openTitle: 'client sessions open now', total: '90,211', refused: '3', bytesIn: '6.3 MB', bytesOut: '21.8 MB' });
    assert.equal(streamNumbers({ protocol: 'tcp' }, status()).openTitle, 'connections open now');
    assert.equal(STATE_TEXT.failed, 'Not listening');
  });
});

describe('streams in the app state', () => {
  it('reads the streams at start, follows the streams event, and toggles and removes with Undo', async () => {
    const fake = new FakeGatehouse();
    const app = new AppState(createApiClient(fake), quietNotices());
    const stop = app.connect();
    await app.reload();
    assert.equal(app.streams.length, 0);

    const api = createApiClient(fake);
    const added = await api.addStream({ title: 'NAS SSH', preset: 'ssh', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] });
    assert.equal(app.streams.length, 1, 'the streams event brought it');
    assert.equal(app.streamById(added.stream.id)?.status.state, 'listening');

    assert.equal(await app.setStreamEnabled(added.stream, false), true);
    assert.equal(app.streamById(added.stream.id)?.status.state, 'disabled');
    assert.equal(app.streamById(added.stream.id)?.stream.enabled, false);

    assert.equal(await app.removeStream(app.streamById(added.stream.id)!.stream), true);
    assert.equal(app.streams.length, 0);
    const undo = app.notices.current?.action;
    assert.ok(undo, 'Undo offered');
    await undo.run();
    assert.equal(app.streams.length, 1);
    assert.equal(app.streams[0]!.stream.title, 'NAS SSH');
    assert.equal(app.streams[0]!.stream.listenPort, 2222);
    stop();
  });

  it('stopping the proxy shows streams as stopped', async () => {
    const fake = new FakeGatehouse();
    const app = new AppState(createApiClient(fake), quietNotices());
    const stop = app.connect();
    await createApiClient(fake).addStream({ title: 'MQTT', protocol: 'tcp', listenPort: 1883, upstreams: ['10.33.0.7:1883'] });
    await app.runProxyAction('stop');
    assert.equal(app.streams[0]?.status.state, 'stopped');
    stop();
  });
});

describe('first-run port check with streams', () => {
  it('asks for the stream ports and names each by its stream', async () => {
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    const ftp = await api.addStream({ title: 'NAS FTP', preset: 'ftp', protocol: 'ftp', listenPort: 21, upstreams: ['10.33.0.5:21'], ftp: { passivePortFrom: 30000, passivePortTo: 30049, tls: 'off' } });
    const { routes: _routes, version: _version, ...general } = defaultSettings();
    const ports = new PortChoice(api, general, fake.status);
    assert.equal(await ports.check(), true);
    assert.deepEqual(fake.callsOf('checkPorts'), [{ httpPort: 80, httpsPort: 443, streams: true }]);
    const titles = (id: string) => (id === ftp.stream.id ? 'NAS FTP' : undefined);
    const labels = ports.checks!.map((check) => portCheckLabel(check, titles));
    assert.deepEqual(labels, ['HTTP port 80', 'HTTPS port 443', 'stream "NAS FTP" (TCP 21)', 'the FTP passive range of "NAS FTP" (30000–30049)']);
    assert.deepEqual(ports.failed.map((check) => check.role), ['stream'], 'port 21 is below 1024');
    assert.match(ports.failed[0]!.problem?.message ?? '', /below 1024/);
  });
});
