// The pure parts of discovery: merging announcements into services, matching routes, TXT decoding,
// the RFC 6762 record rules (tiebreak, QU bit, probe encoding, suggestions), identification's
// concurrency and caching, and "Probe a host" single-flight and error mapping.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../shared/api.js';
import type { HostProbe, Identification } from '../../shared/status.js';
import { HostProbeLimiter, IdentificationQueue } from '../../src-main/core/discovery/identification-queue.js';
import { addressRecords, encodeProbe, suggestName, tiebreak, wantsUnicast } from '../../src-main/core/discovery/name-records.js';
import { decodeTxt } from '../../src-main/core/discovery/service-browser.js';
import { mergeInstances, routesFor, sortAddresses, type SeenInstance } from '../../src-main/core/discovery/service-merge.js';
import { looksLikeWebService, serviceTypes } from '../../src-main/core/discovery/service-types.js';
import { discoveryHandlers } from '../../src-main/core/gateway/discovery-handlers.js';
import { singleUpstream } from '../../shared/upstreams.js';

function instance(fields: Partial<SeenInstance> & Pick<SeenInstance, 'type'>): SeenInstance {
  return { fqdn: `x.${fields.type}.local`, name: 'x', host: 'nas.local', port: 5000, addresses: ['10.0.0.2'], txt: {}, firstSeen: 1000, lastSeen: 2000, ...fields };
}

describe('merging and matching', () => {
  test('one service per host and port; the specific type names it and its TXT wins', () => {
    const [service, other] = mergeInstances([
      instance({ type: '_http._tcp', name: 'nas web', txt: { path: '/', model: 'generic' }, firstSeen: 1000, addresses: ['fe80::1', '10.0.0.2'] }),
      instance({ type: '_home-assistant._tcp', name: 'Home', txt: { model: 'ha' }, firstSeen: 3000, lastSeen: 5000, addresses: ['2001:db8::2', '10.0.0.2'] }),
      instance({ type: '_ssh._tcp', host: 'NAS.local', port: 22, firstSeen: 500 }),
    ]);
    assert.equal(service!.id, 'nas.local:5000');
    assert.equal(service!.name, 'Home');
    assert.deepEqual(service!.types, ['_home-assistant._tcp', '_http._tcp']);
    assert.deepEqual(service!.addresses, ['10.0.0.2', '2001:db8::2', 'fe80::1']);
    assert.deepEqual(service!.txt, { path: '/', model: 'ha' });
    assert.equal(service!.firstSeen, new Date(1000).toISOString());
    assert.equal(service!.lastSeen, new Date(5000).toISOString());
    assert.equal(other!.id, 'nas.local:22', 'host names are compared in lower case; newest first seen first');
  });

  test('addresses: IPv4 first, IPv6, link-local last, no repeats', () => {
    assert.deepEqual(sortAddresses(['fe80::1', '2001:db8::1', '10.0.0.1', '10.0.0.1', '192.168.1.2']), ['10.0.0.1', '192.168.1.2', '2001:db8::1', 'fe80::1']);
  });

  test('routes match by address or host name and port, default ports by scheme', () => {
    const service = { addresses: ['10.0.0.2', '2001:db8::2'], host: 'nas.local', port: 443 };
    const routes = [
      { id: 'a', upstreams: singleUpstream('https://10.0.0.2') },
      { id: 'b', upstreams: singleUpstream('http://10.0.0.2:443') },
      { id: 'c', upstreams: singleUpstream('https://[2001:db8::2]:443') },
      { id: 'd', upstreams: singleUpstream('https://nas.local') },
      { id: 'e', upstreams: singleUpstream('http://10.0.0.2') },
      { id: 'f', upstreams: singleUpstream('https://10.0.0.3') },
      { id: 'g', upstreams: [...singleUpstream('https://10.0.0.3'), ...singleUpstream('https://nas.local:443')] },
    ];
    assert.deepEqual(routesFor(service, routes), ['a', 'b', 'c', 'd', 'g'], 'a route matches when any of its upstreams does');
  });

  test('TXT: key=value, empty values, boolean keys, first of a repeated key', () => {
    const txt = decodeTxt(['path=/web', 'empty=', 'flag', 'Path=/other', 'eq=a=b', '=nokey'].map((text) => Buffer.from(text)));
    assert.deepEqual(txt, { path: '/web', empty: '', flag: '', eq: 'a=b' });
  });

  test('the browsed types: documented, web-ish ones identified, _device-info left out', () => {
    assert.ok(serviceTypes.includes('_googlecast._tcp') && serviceTypes.includes('_raop._tcp') && serviceTypes.includes('_airplay._tcp'));
    assert.ok(!serviceTypes.includes('_device-info._tcp'));
    assert.equal(looksLikeWebService(['_ssh._tcp']), false);
    assert.equal(looksLikeWebService(['_ssh._tcp', '_http._tcp']), true);
  });
});

describe('RFC 6762 rules for a published name', () => {
  const ours = addressRecords('jellyfin.local', ['10.0.0.5'], 120, false);

  test('tiebreak: higher rdata wins, identical is no conflict, more records win', () => {
    assert.ok(tiebreak(ours, addressRecords('jellyfin.local', ['10.0.0.4'], 120, false)) > 0);
    assert.ok(tiebreak(ours, addressRecords('jellyfin.local', ['10.0.0.6'], 120, false)) < 0);
    assert.equal(tiebreak(ours, addressRecords('jellyfin.local', ['10.0.0.5'], 120, false)), 0);
    assert.ok(tiebreak(ours, addressRecords('jellyfin.local', ['10.0.0.5', 'fe80::1'], 120, false)) < 0);
    assert.ok(tiebreak(addressRecords('x.local', ['::1'], 120, false), addressRecords('x.local', ['255.255.255.255'], 120, false)) > 0, 'AAAA (28) sorts after A (1)');
  });

  test('the QU bit is read from the class dns-packet cannot name', () => {
    assert.equal(wantsUnicast({ name: 'x.local', type: 'A', class: 'UNKNOWN_32769' as never }), true);
    assert.equal(wantsUnicast({ name: 'x.local', type: 'A', class: 'IN' }), false);
  });

  test('a probe carries ANY, A and AAAA questions (QU on request) and the proposal as authority', () => {
    const probe = encodeProbe('jellyfin.local', addressRecords('jellyfin.local', ['10.0.0.5', '2001:db8::5'], 120, false), true);
    assert.equal(probe.readUInt16BE(4), 3, 'three questions');
    assert.equal(probe.readUInt16BE(8), 2, 'two authority records');
    const name = Buffer.from('\x08jellyfin\x05local\x00', 'latin1');
    assert.equal(probe.indexOf(name), 12);
    assert.deepEqual([probe.readUInt16BE(12 + name.length), probe.readUInt16BE(14 + name.length)], [255, 0x8001], 'ANY, class IN with the QU bit');
    assert.ok(probe.subarray(-16).equals(Buffer.from('20010db8000000000000000000000005', 'hex')), 'the AAAA rdata last');
    const plain = encodeProbe('jellyfin.local', ours, false);
    assert.equal(plain.readUInt16BE(14 + name.length), 1, 'no QU bit on later probes');
  });

  test('suggestions count up and skip taken names', () => {
    assert.equal(suggestName('jellyfin.local', () => false), 'jellyfin-2.local');
    assert.equal(suggestName('jellyfin-2.local', () => false), 'jellyfin-3.local');
    assert.equal(suggestName('tv.den.local', () => false), 'tv-2.den.local');
    assert.equal(suggestName('jellyfin.local', (name) => name === 'jellyfin-2.local'), 'jellyfin-3.local');
  });
});

describe('identification and host probes', () => {
  const found: Identification = { presetId: 'jellyfin', app: 'Jellyfin', scheme: 'http', evidence: ['title "Jellyfin"'] };

  test('at most two identifications at once, each fingerprint once, results kept', async () => {
    let running = 0;
    let most = 0;
    const calls: string[] = [];
    const releases: (() => void)[] = [];
    const queue = new IdentificationQueue({
      onResult: () => {},
      identify: async (target) => {
        calls.push(`${target.address}:${target.port}`);
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return target.port === 8096 ? found : null;
      },
    });
    for (const port of [8096, 3000, 9000]) queue.request({ id: `h:${port}`, fingerprint: `h|${port}|10.0.0.2`, target: { address: '10.0.0.2', port } });
    queue.request({ id: 'h:8096', fingerprint: 'h|8096|10.0.0.2', target: { address: '10.0.0.2', port: 8096 } });
    while (calls.length < 3 || releases.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    assert.equal(most, 2);
    assert.deepEqual(calls, ['10.0.0.2:8096', '10.0.0.2:3000', '10.0.0.2:9000'], 'the repeated request did not run again');
    assert.deepEqual(queue.result('h:8096'), found);
    queue.request({ id: 'h:8096', fingerprint: 'h|8096|10.0.0.3', target: { address: '10.0.0.3', port: 8096 } });
    while (calls.length < 4 || releases.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    assert.equal(calls.at(-1), '10.0.0.3:8096', 'a new address is identified again');
    queue.close();
  });

  test('one probe per address: the same request shares a run, another waits its turn', async () => {
    const limiter = new HostProbeLimiter();
    const order: string[] = [];
    const probe = (label: string) => async (): Promise<HostProbe> => {
      order.push(`start ${label}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push(`end ${label}`);
      return { address: '10.0.0.2', portsTried: 1, open: [], tookMs: 20 };
    };
    const first = limiter.run('10.0.0.2', [80], probe('a'));
    const same = limiter.run('10.0.0.2', [80], probe('b'));
    const other = limiter.run('10.0.0.2', [443], probe('c'));
    const elsewhere = limiter.run('10.0.0.3', [80], probe('d'));
    assert.equal(same, first);
    await Promise.all([first, other, elsewhere]);
    assert.deepEqual(order.filter((step) => !step.endsWith('d')), ['start a', 'end a', 'start c', 'end c']);
    assert.ok(order.indexOf('start d') < order.indexOf('end a'), 'another address does not wait');
  });

  test('probeHost failures become clear ApiErrors; presets are the table', async () => {
    const failing = discoveryHandlers({ discovery: { overview: () => ({}) as never }, probe: async () => Promise.reject(new Error('socket hang up')) });
    const error = await failing.probeHost({ address: '10.0.0.2' }).then(
      () => assert.fail('expected a failure'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'internal');
    assert.match(error.message, /could not probe 10\.0\.0\.2: socket hang up/);
    const passed: unknown[] = [];
    const working = discoveryHandlers({
      discovery: { overview: () => ({}) as never },
      probe: async (address, options) => {
        passed.push(options?.ports, options?.signal instanceof AbortSignal);
        return { address, portsTried: 1, open: [], tookMs: 1 };
      },
    });
    assert.equal((await working.probeHost({ address: '10.0.0.2', ports: [8096] })).address, '10.0.0.2');
    assert.deepEqual(passed, [[8096], true], 'the ports and a time budget are passed on');
    assert.ok(Array.isArray(await working.getPresets({})));
  });
});
