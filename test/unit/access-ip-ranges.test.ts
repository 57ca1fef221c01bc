// The address matcher behind access lists and "this network": parsing every textual form an
// address arrives in, CIDR edges, first-match order across overlapping ranges (checked against a
// plain scan of the list over random lists), and the cost of a lookup in a 10,000-entry list,
// measured beside node's BlockList (which checks its rules one by one).
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import { parseAddress, parseRange, RangeTable, type Family } from '../../src-main/core/access/ip-ranges.js';

function words(address: string): { family: Family; words: number[] } {
  const out = new Uint32Array(4);
  const family = parseAddress(address, out);
  return { family, words: family === 4 ? [out[0] as number] : Array.from(out) };
}

test('parses IPv4, IPv6 (compressed, full, with an IPv4 tail or a zone) and IPv4-mapped IPv6 as IPv4', () => {
  assert.deepEqual(words('0.0.0.0'), { family: 4, words: [0] });
  assert.deepEqual(words('255.255.255.255'), { family: 4, words: [0xffffffff] });
  assert.deepEqual(words('203.0.113.5'), { family: 4, words: [0xcb007105] });
  assert.deepEqual(words('::'), { family: 6, words: [0, 0, 0, 0] });
  assert.deepEqual(words('::1'), { family: 6, words: [0, 0, 0, 1] });
  assert.deepEqual(words('1::'), { family: 6, words: [0x10000, 0, 0, 0] });
  assert.deepEqual(words('2001:DB8::8:800:200C:417A'), { family: 6, words: [0x20010db8, 0, 0x80800, 0x200c417a] });
  assert.deepEqual(words('1:2:3:4:5:6:7:8'), { family: 6, words: [0x10002, 0x30004, 0x50006, 0x70008] });
  assert.deepEqual(words('1:2:3:4:5:6:7::'), { family: 6, words: [0x10002, 0x30004, 0x50006, 0x70000] });
  assert.deepEqual(words('64:ff9b::192.0.2.33'), { family: 6, words: [0x0064ff9b, 0, 0, 0xc0000221] });
  assert.deepEqual(words('fe80::1%eth0'), { family: 6, words: [0xfe800000, 0, 0, 1] });
  assert.deepEqual(words('::ffff:192.0.2.1'), { family: 4, words: [0xc0000201] }, 'what a dual-stack socket reports');
  assert.deepEqual(words('::ffff:c000:201'), { family: 4, words: [0xc0000201] });
});

test('refuses what is not an address', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', ':', ':::', '1:::2', ':1::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '1:2:3:4:5:6:7', '::ffff:1.2.3', 'g::1', '1:', 'localhost']) {
    assert.equal(parseAddress(bad), 0, JSON.stringify(bad));
  }
});

test('a range covers exactly its CIDR block; bits past the prefix are ignored; mapped ranges are IPv4', () => {
  assert.deepEqual(parseRange('10.0.0.7/24'), { family: 4, lo: 0x0a000000, hi: 0x0a0000ff });
  assert.deepEqual(parseRange('0.0.0.0/0'), { family: 4, lo: 0, hi: 0xffffffff });
  assert.deepEqual(parseRange('203.0.113.5'), { family: 4, lo: 0xcb007105, hi: 0xcb007105 });
  assert.deepEqual(parseRange('::ffff:192.0.2.0/120'), { family: 4, lo: 0xc0000200, hi: 0xc00002ff });
  assert.deepEqual(parseRange('2001:db8::/32'), { family: 6, lo: 0x20010db8n << 96n, hi: (0x20010db8n << 96n) | ((1n << 96n) - 1n) });
  assert.deepEqual(parseRange('::/0'), { family: 6, lo: 0n, hi: (1n << 128n) - 1n });
  assert.throws(() => parseRange('10.0.0.0/33'), /"10.0.0.0\/33" is not an IP address or CIDR range/);
  assert.throws(() => parseRange('2001:db8::/129'), /not an IP address or CIDR range/);
  assert.throws(() => parseRange('example.com'), /not an IP address/);

  const table = new RangeTable(['203.0.113.0/24', '2001:db8:1::/48', '10.0.0.0/31']);
  for (const [address, at] of [
    ['203.0.112.255', -1],
    ['203.0.113.0', 0],
    ['203.0.113.255', 0],
    ['203.0.114.0', -1],
    ['2001:db8:0:ffff:ffff:ffff:ffff:ffff', -1],
    ['2001:db8:1::', 1],
    ['2001:db8:1:ffff:ffff:ffff:ffff:ffff', 1],
    ['2001:db8:2::', -1],
    ['::ffff:203.0.113.9', 0],
    ['10.0.0.0', 2],
    ['10.0.0.1', 2],
    ['10.0.0.2', -1],
    ['not an address', -1],
  ] as const) {
    assert.equal(table.lookup(address), at, address);
  }
  const everything = new RangeTable(['0.0.0.0/0', '::/0']);
  assert.equal(everything.lookup('0.0.0.0'), 0);
  assert.equal(everything.lookup('255.255.255.255'), 0);
  assert.equal(everything.lookup('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 1);
  assert.equal(new RangeTable([]).lookup('10.0.0.1'), -1);
});

test('the first range in the list that holds the address wins, however the ranges overlap', () => {
  const table = new RangeTable(['10.1.2.3', '10.1.0.0/16', '10.0.0.0/8', '10.1.2.0/24', '0.0.0.0/0', '::/0', '2001:db8::/32', '2001:db8::1']);
  assert.equal(table.lookup('10.1.2.3'), 0);
  assert.equal(table.lookup('10.1.2.4'), 1, 'the /16 is above the /24');
  assert.equal(table.lookup('10.2.0.0'), 2);
  assert.equal(table.lookup('11.0.0.0'), 4);
  assert.equal(table.lookup('2001:db8::1'), 5, '::/0 comes first');
});

/** A deterministic pseudo-random source, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('agrees with a plain top-to-bottom scan on random overlapping lists (IPv4 and IPv6)', () => {
  const next = random(13);
  const v4 = (r: number) => [r >>> 24, (r >>> 16) & 255, (r >>> 8) & 255, r & 255].join('.');
  // A small space, so ranges overlap a lot: 10.0.0.0/20 and 2001:db8::/116.
  const v6 = (r: number) => `2001:db8::${(r & 0xfff).toString(16)}`;
  for (let round = 0; round < 40; round++) {
    const ranges: string[] = [];
    const parsed: ReturnType<typeof parseRange>[] = [];
    for (let i = 0; i < 60; i++) {
      const six = next() < 0.4;
      const host = Math.floor(next() * 4096);
      const prefix = six ? 116 + Math.floor(next() * 13) : 20 + Math.floor(next() * 13);
      const range = six ? `${v6(host)}/${prefix}` : `${v4(0x0a000000 + host)}/${prefix}`;
      ranges.push(range);
      parsed.push(parseRange(range));
    }
    const table = new RangeTable(ranges);
    for (let probe = 0; probe < 300; probe++) {
      const six = next() < 0.4;
      const host = Math.floor(next() * 4096);
      const address = six ? v6(host) : v4(0x0a000000 + host);
      const value = six ? (0x20010db8n << 96n) + BigInt(host) : 0x0a000000 + host;
      const expected = parsed.findIndex((range) => range.family === (six ? 6 : 4) && range.lo <= value && value <= range.hi);
      assert.equal(table.lookup(address), expected, `round ${round}: ${address} in ${ranges.join(' ')}`);
    }
  }
});

test('a 10,000-entry list: compiled in well under a second, a lookup costs about the same as in a 10-entry one', () => {
  const next = random(7);
  const ranges: string[] = [];
  const blockList = new BlockList();
  for (let i = 0; i < 10_000; i++) {
    const a = Math.floor(next() * 2 ** 32);
    const prefix = 16 + Math.floor(next() * 17);
    const range = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${prefix}`;
    ranges.push(range);
    blockList.addSubnet(range.split('/')[0] as string, prefix, 'ipv4');
  }
  for (let i = 0; i < 100; i++) ranges.push(`2001:db8:${i.toString(16)}::/48`);
  let started = performance.now();
  const table = new RangeTable(ranges);
  const compileMs = performance.now() - started;
  const small = new RangeTable(ranges.slice(0, 10));

  const probes = Array.from({ length: 2000 }, () => {
    const a = Math.floor(next() * 2 ** 32);
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  });
  const perLookup = (lookup: (address: string) => unknown, rounds: number) => {
    for (const probe of probes) lookup(probe); // warm up
    started = performance.now();
    for (let r = 0; r < rounds; r++) for (const probe of probes) lookup(probe);
    return ((performance.now() - started) * 1e6) / (rounds * probes.length); // ns
  };
  const bigNs = perLookup((address) => table.lookup(address), 50);
  const smallNs = perLookup((address) => small.lookup(address), 50);
  const blockListNs = perLookup((address) => blockList.check(address, 'ipv4'), 1);
  console.log(`10,000 ranges: compiled in ${compileMs.toFixed(1)} ms; a lookup ${bigNs.toFixed(0)} ns (10 ranges: ${smallNs.toFixed(0)} ns; node's BlockList.check over the same 10,000: ${blockListNs.toFixed(0)} ns)`);
  assert.ok(compileMs < 2000, `compiling took ${compileMs} ms`);
  // Generous bounds for a shared machine; a linear scan of 10,000 ranges is ~100× the 10-entry cost.
  assert.ok(bigNs < 5000, `a lookup took ${bigNs} ns`);
  assert.ok(bigNs < smallNs * 8 + 500, `10,000 entries (${bigNs} ns) cost far more than 10 (${smallNs} ns)`);

  // And it answers as BlockList does (which knows only yes or no).
  for (const probe of probes.slice(0, 500)) assert.equal(table.lookup(probe) !== -1, blockList.check(probe, 'ipv4'), probe);
});
