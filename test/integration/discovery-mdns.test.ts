// Discovery and name publishing against independent mDNS peers (python-zeroconf, dig), every
// scenario inside a network namespace (test/helpers/netns.ts): this file runs on the host network
// and never sends multicast itself. Latencies are printed as diagnostics, never asserted.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { DiscoveredService, DiscoveryOverview, PublishedName } from '../../shared/status.js';
import { inNamespace, LanPair, needNamespaceTools, run, scenario, scenarioResult } from '../helpers/netns.js';

const mdnsOn = { GATEHOUSE_MDNS: 'on' };

describe('mDNS in a namespace', { skip: needNamespaceTools() }, () => {
  test('the gateway discovers a python-zeroconf service, merges a second type, and drops it on the goodbye', async (t) => {
    const result = scenarioResult<{
      appeared: DiscoveredService;
      merged: DiscoveredService;
      afterFirstGoodbye: DiscoveredService;
      overviewState: string;
      serviceTypes: string[];
      routeId: string;
      appearMs: number;
      appearSinceRegisterMs: number;
      disappearMs: number;
      registerMs: number;
      discoveryEvents: number;
    }>(await inNamespace(scenario('discover.ts'), { env: mdnsOn }));
    assert.equal(result.overviewState, 'browsing');
    assert.ok(result.serviceTypes.includes('_home-assistant._tcp') && !result.serviceTypes.includes('_device-info._tcp'));
    const { appeared, merged } = result;
    assert.equal(appeared.name, 'Media Box');
    assert.deepEqual(appeared.types, ['_http._tcp']);
    assert.equal(appeared.host, 'mediabox.local');
    assert.equal(appeared.port, 8096);
    assert.deepEqual(appeared.addresses, ['127.0.0.1']);
    assert.deepEqual(appeared.txt, { path: '/web', version: '10.9' });
    assert.deepEqual(appeared.routeIds, [result.routeId], 'the route whose upstream is 127.0.0.1:8096');
    assert.ok(Date.parse(appeared.firstSeen) <= Date.parse(appeared.lastSeen));
    assert.equal(merged.id, appeared.id, 'one service for one host and port');
    assert.deepEqual(merged.types, ['_home-assistant._tcp', '_http._tcp']);
    assert.equal(merged.name, 'Media Box HA', 'the specific type names it');
    assert.deepEqual(merged.txt, { path: '/web', version: '10.9', base_url: 'http://mediabox.local:8096' });
    assert.equal(merged.firstSeen, appeared.firstSeen);
    assert.deepEqual(result.afterFirstGoodbye.types, ['_home-assistant._tcp'], 'one goodbye removes one type');
    assert.ok(result.discoveryEvents > 0, 'subscribers heard about it');
    t.diagnostic(
      `appeared ${result.appearSinceRegisterMs} ms after zeroconf began registering (its own probing took ${result.registerMs} ms; ${result.appearMs} ms after it returned); gone ${result.disappearMs} ms after the goodbye`,
    );
  });

  test('with mDNS on but no multicast route, the state is failed with a fix, and the gateway keeps working', async () => {
    const result = scenarioResult<{ failed: DiscoveryOverview; proxyStarted: string; proxyStopped: string }>(
      await inNamespace(scenario('no-route.ts'), { network: 'none', env: mdnsOn }),
    );
    assert.equal(result.failed.problem?.code, 'mdns_no_route');
    assert.match(result.failed.problem?.message ?? '', /no network route for multicast/);
    assert.match(result.failed.problem?.fix ?? '', /Connect this machine to your network/);
    assert.equal(result.failed.published[0]?.state, 'stopped');
    assert.equal(result.proxyStarted, 'running');
    assert.equal(result.proxyStopped, 'stopped');
  });

  test('lan.mdns off sends the goodbye at once and shows off; on publishes again', async () => {
    const result = scenarioResult<{ announced: PublishedName; off: DiscoveryOverview; goodbye: { from: string; ttl: number; data: string }; sentWhileOff: unknown[]; onState: string; again: PublishedName }>(
      await inNamespace(scenario('settings-off.ts'), { network: 'lan-address', env: mdnsOn }),
    );
    assert.deepEqual(result.announced.addresses, ['10.88.0.1']);
    assert.equal(result.off.state, 'off');
    assert.equal(result.off.problem?.code, 'mdns_off');
    assert.deepEqual(result.off.services, []);
    assert.equal(result.off.published[0]?.state, 'stopped');
    assert.deepEqual(result.goodbye, { ...result.goodbye, from: '10.88.0.1', ttl: 0, data: '10.88.0.1' });
    assert.deepEqual(result.sentWhileOff, [], 'nothing is sent while mDNS is off');
    assert.equal(result.onState, 'browsing');
    assert.equal(result.again.state, 'announced');
  });
});

describe('mDNS between two namespaces joined by a veth pair', { skip: needNamespaceTools({ lanPair: true }) }, () => {
  const pairs: LanPair[] = [];
  after(async () => {
    for (const pair of pairs) await pair.destroy();
  });
  async function runOnPair(script: string) {
    const pair = await LanPair.create();
    pairs.push(pair);
    return run(LanPair.exec(pair.gatehouse, scenario(script)), { env: { ...mdnsOn, PEER_NETNS: pair.peer.namespace, PEER_ADDRESS: pair.peer.address } });
  }

  test('zeroconf and dig on another host resolve the published name to the LAN address; stop and close send goodbyes', async (t) => {
    type Heard = { at: number; from: string; section: string; name: string; type: string; ttl: number; data: string; flush: boolean };
    const result = scenarioResult<{
      beforeStart: PublishedName;
      announced: PublishedName;
      announceMs: number;
      zeroconf: string[];
      digOutput: string;
      stopped: PublishedName;
      goodbyeOnStop: Heard;
      goodbyeOnClose: Heard;
      heard: Heard[];
      goodbyeAfterStopMs: number;
    }>(await runOnPair('publish.ts'));
    assert.equal(result.beforeStart.state, 'stopped', 'not published while the proxy is stopped');
    assert.equal(result.beforeStart.problem?.code, 'proxy_stopped');
    assert.deepEqual(result.announced.addresses, ['10.77.0.1']);
    assert.equal(result.announced.warning, null);
    assert.deepEqual(result.zeroconf, ['10.77.0.1'], 'python-zeroconf on the other host resolves it');
    assert.match(result.digOutput, /ANSWER SECTION:\njellyfin\.local\.\s+10\s+IN\s+A\s+10\.77\.0\.1/, 'dig gets a legacy-unicast answer with a 10 s TTL');
    const announcements = result.heard.filter((record) => record.type === 'A' && record.ttl === 120 && record.section === 'answers');
    assert.ok(announcements.length >= 2, 'announced at least twice');
    assert.ok(announcements.every((record) => record.flush && record.from === '10.77.0.1' && record.data === '10.77.0.1'), 'cache-flush bit set');
    const gap = announcements[1]!.at - announcements[0]!.at;
    assert.ok(gap >= 900, `the second announcement comes about a second after the first (${gap} ms)`);
    assert.ok(result.heard.some((record) => record.type === 'NSEC'), 'an NSEC says there is no AAAA');
    assert.equal(result.stopped.state, 'stopped');
    assert.deepEqual({ ...result.goodbyeOnStop, at: 0 }, { at: 0, from: '10.77.0.1', section: 'answers', name: 'jellyfin.local', type: 'A', ttl: 0, data: '10.77.0.1', flush: true });
    assert.equal(result.goodbyeOnClose.ttl, 0);
    t.diagnostic(`announced ${result.announceMs} ms after startProxy; goodbye heard ${result.goodbyeAfterStopMs} ms after stopProxy was called`);
  });

  test('a name python-zeroconf already holds: conflict naming the holder, a suggestion, and the holder undisturbed', async (t) => {
    const result = scenarioResult<{
      conflict: PublishedName;
      conflictMs: number;
      later: PublishedName;
      resolvedHere: string[];
      holderAnswers: string[];
      gatehouseAnswer: string;
      ours: unknown[];
      peerResolves: string[];
    }>(await runOnPair('conflict.ts'));
    assert.equal(result.conflict.problem?.code, 'name_taken');
    assert.match(result.conflict.problem?.message ?? '', /jellyfin\.local is already answered for on the LAN by 10\.77\.0\.2/);
    assert.equal(result.conflict.suggestion, 'jellyfin-2.local');
    assert.match(result.conflict.problem?.fix ?? '', /jellyfin-2\.local/);
    assert.equal(result.later.state, 'conflict', 'it stays a conflict');
    assert.deepEqual(result.resolvedHere, ['10.77.0.2'], "a resolver on Gatehouse's host gets the holder's address only");
    assert.deepEqual(result.holderAnswers, ['10.77.0.2'], 'the holder answered (our probes), with its address');
    assert.doesNotMatch(result.gatehouseAnswer, /^\d+\.\d+\.\d+\.\d+$/m, 'Gatehouse does not answer for the name');
    assert.deepEqual(result.ours, [], 'Gatehouse never announced the name');
    assert.deepEqual(result.peerResolves, ['10.77.0.2']);
    t.diagnostic(`conflict found ${result.conflictMs} ms after startProxy`);
  });
});
