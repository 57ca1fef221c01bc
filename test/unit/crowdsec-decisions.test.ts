// The bouncer's decision table alone: Go durations, exact and range lookups (IPv4, IPv6 written
// any way), deletes by value that are skipped when repeated, expiry without any pull, and the cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalIpv6, DecisionTable, ipv6Number, parseGoDuration, type LapiDecision } from '../../src-main/core/access/crowdsec-decisions.js';

const T0 = 1_800_000_000_000;
let nextId = 1;
function decision(value: string, duration = '1h', extra: Partial<LapiDecision> = {}): LapiDecision {
  return { id: nextId++, duration, scenario: 'crowdsecurity/http-probing', origin: 'crowdsec', scope: value.includes('/') ? 'Range' : 'Ip', type: 'ban', value, ...extra };
}

test('Go durations as the LAPI writes them', () => {
  assert.equal(parseGoDuration('59m59.6s'), 3_599_600);
  assert.equal(parseGoDuration('3h59m58.849820394s'), 3 * 3_600_000 + 59 * 60_000 + 58_849.820394);
  assert.equal(parseGoDuration('-33.811844ms'), -33.811844);
  assert.equal(parseGoDuration('1.5µs'), 0.0015);
  assert.equal(parseGoDuration('0'), 0);
  for (const bad of ['', '1d', 'h', '5', '1h x', 'abc']) assert.equal(parseGoDuration(bad), null, bad);
});

test('IPv6 is matched however it is written', () => {
  for (const [input, canonical] of [
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['::ffff:198.51.100.7', '::ffff:c633:6407'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
  ]) assert.equal(canonicalIpv6(ipv6Number(input as string) as bigint), canonical, input);
  assert.equal(ipv6Number('198.51.100.7'), null);
});

test('exact addresses and ranges, both families; other scopes are skipped', () => {
  const table = new DecisionTable(100);
  table.replaceAll(
    [decision('198.51.100.7'), decision('203.0.113.0/24'), decision('10.0.0.0/8'), decision('2001:DB8::7'), decision('2001:db8:ab::/48'), decision('0.0.0.0/0', '1h', { scope: 'Country', value: 'FR' })],
    null,
    T0,
  );
  assert.equal(table.size, 5);
  assert.ok(table.lookup('198.51.100.7', T0));
  assert.ok(table.lookup('::ffff:198.51.100.7', T0), 'IPv4-mapped');
  assert.equal(table.lookup('198.51.100.8', T0), null);
  assert.ok(table.lookup('203.0.113.255', T0));
  assert.equal(table.lookup('203.0.114.0', T0), null);
  assert.ok(table.lookup('10.255.0.1', T0));
  assert.ok(table.lookup('2001:db8::7', T0));
  assert.ok(table.lookup('2001:0DB8:0::7', T0));
  assert.ok(table.lookup('2001:db8:ab:1234::9', T0));
  assert.equal(table.lookup('2001:db8:ac::9', T0), null);
  assert.equal(table.lookup('not an address', T0), null);
});

test('a delete removes the address whatever id it names, and a repeated delete is skipped', () => {
  const table = new DecisionTable(100);
  const first = decision('198.51.100.7', '4h');
  table.replaceAll([first], null, T0);
  // The LAPI names any one of the value's decisions when the last one goes.
  const deleted = { ...decision('198.51.100.7', '-1s'), id: 999 };
  assert.equal(table.applyPull(null, [deleted], T0), true);
  assert.equal(table.lookup('198.51.100.7', T0), null);
  assert.equal(table.applyPull([decision('198.51.100.7')], [deleted], T0 + 2000), true);
  assert.ok(table.lookup('198.51.100.7', T0 + 2000), 'the same delete again did not lift the new ban');
  // Deleted and banned again in one pull: banned.
  const other = decision('198.51.100.9');
  table.applyPull([other], null, T0);
  table.applyPull([decision('198.51.100.9')], [{ ...other, id: 5000 }], T0);
  assert.ok(table.lookup('198.51.100.9', T0));
  // A delete for something never held changes nothing.
  assert.equal(table.applyPull(null, [decision('192.0.2.1')], T0), false);
});

test('a shorter decision does not cut a longer one short', () => {
  const table = new DecisionTable(100);
  table.replaceAll([decision('198.51.100.7', '4h')], null, T0);
  table.applyPull([decision('198.51.100.7', '1m')], null, T0);
  assert.equal(table.lookup('198.51.100.7', T0)?.until, T0 + 4 * 3_600_000);
});

test('decisions end by their duration with no pull, and a sweep drops them', () => {
  const table = new DecisionTable(100);
  table.replaceAll([decision('198.51.100.7', '10s'), decision('203.0.113.0/24', '20s'), decision('198.51.100.8', '1h')], null, T0);
  assert.ok(table.lookup('198.51.100.7', T0 + 9_999));
  assert.equal(table.lookup('198.51.100.7', T0 + 10_000), null);
  assert.equal(table.sweep(T0 + 5_000), 0);
  assert.equal(table.sweep(T0 + 10_000), 1);
  assert.equal(table.size, 2);
  assert.equal(table.lookup('203.0.113.9', T0 + 20_000), null);
  assert.equal(table.sweep(T0 + 20_000), 1);
  assert.equal(table.size, 1);
  // Already expired when it arrives: not held.
  table.applyPull([decision('198.51.100.50', '-2s')], null, T0);
  assert.equal(table.lookup('198.51.100.50', T0), null);
});

test('the table holds at most its cap and counts what it left out', () => {
  const table = new DecisionTable(1000);
  const many = Array.from({ length: 1500 }, (_, i) => decision(`198.51.${100 + (i >> 8)}.${i & 255}`));
  table.replaceAll(many, null, T0);
  assert.equal(table.size, 1000);
  assert.equal(table.overflow, 500);
  assert.ok(table.lookup('198.51.100.0', T0));
  // A ban for a held address still updates; a new one stays out.
  table.applyPull([decision('198.51.100.0', '5h'), decision('192.0.2.77')], null, T0);
  assert.equal(table.lookup('198.51.100.0', T0)?.until, T0 + 5 * 3_600_000);
  assert.equal(table.lookup('192.0.2.77', T0), null);
  table.replaceAll([decision('192.0.2.77')], null, T0);
  assert.equal(table.overflow, 0);
  assert.equal(table.size, 1);
});

test('250,000 decisions: a lookup is a hash lookup, not a scan', () => {
  const table = new DecisionTable(1_000_000);
  const batch: LapiDecision[] = [];
  for (let i = 0; i < 250_000; i++) batch.push({ id: i + 1, duration: '4h', scenario: 's', scope: 'Ip', type: 'ban', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
  const loadStarted = performance.now();
  table.replaceAll(batch, null, T0);
  const loadMs = performance.now() - loadStarted;
  batch.length = 0;
  assert.equal(table.size, 250_000);
  const probes = Array.from({ length: 200_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i * 7 >> 8) & 255}.${i & 255}`);
  const started = performance.now();
  let hits = 0;
  for (const probe of probes) if (table.lookup(probe, T0)) hits++;
  const perLookupUs = ((performance.now() - started) * 1000) / probes.length;
  assert.ok(hits > 0);
  // A scan of 250,000 entries would take a millisecond; a hash lookup takes well under one µs.
  assert.ok(perLookupUs < 20, `a lookup took ${perLookupUs.toFixed(2)} µs`);
  console.log(`# 250,000 decisions: loaded in ${loadMs.toFixed(0)} ms, ${perLookupUs.toFixed(2)} µs a lookup`);
});
