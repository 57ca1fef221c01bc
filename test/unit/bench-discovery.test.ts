// The discovery section of the bench: how its repetitions become PASS/MISS lines. The worst
// repetition decides ("within 2 s"), a repetition Gatehouse missed is a MISS however fast the rest
// were, and a run that could not measure says why instead of passing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDiscovery, discoveryTargets, type DiscoveryResult } from '../../bench/discovery.mjs';

function result(fields: Partial<DiscoveryResult> = {}): DiscoveryResult {
  return {
    reps: 3,
    appear: { gatehouse: [900, 1000, 1100], zeroconf: [400, 450, 500] },
    disappear: { gatehouse: [150, 260, 240], zeroconf: [3, 4, 5] },
    missed: [],
    probe: [
      { address: '127.0.0.1', portsTried: 30, samplesMs: [120, 130], medianMs: 125, maxMs: 130, open: ['8096 Jellyfin'] },
      { address: '10.99.0.2', portsTried: 30, samplesMs: [2400, 2500], medianMs: 2450, maxMs: 2500, open: [] },
    ],
    ...fields,
  };
}

const statuses = (lines: ReturnType<typeof discoveryTargets>) => Object.fromEntries(lines.map((line) => [line.id, line.status]));

test('passes when every repetition is within its limit, and gives the ratio to zeroconf', () => {
  const lines = discoveryTargets(result());
  assert.deepEqual(statuses(lines), { 'discovery-appear': 'PASS', 'discovery-disappear': 'PASS', 'discovery-probe': 'PASS' });
  assert.match(lines[0]!.detail, /^worst 1,100 ms of 3; median 1,000 ms = 2\.22× zeroconf's 450 ms$/);
  assert.match(lines[1]!.detail, /^worst 260 ms of 3; median 240 ms vs zeroconf's 4 ms \(\+236 ms\)$/, 'a peer time of a few ms gives a difference, not a ratio');
  assert.match(lines[2]!.detail, /^worst 2,500 ms of 2$/);
});

test('the worst repetition decides, and a missed one is a MISS', () => {
  const slow = discoveryTargets(result({ disappear: { gatehouse: [150, 2100, 240], zeroconf: [3, 4, 5] } }));
  assert.equal(statuses(slow)['discovery-disappear'], 'MISS');
  const missed = discoveryTargets(result({ missed: ['appear bench2: Gatehouse did not see it within 6000 ms'], appear: { gatehouse: [900, 1000], zeroconf: [400, 450, 500] } }));
  assert.equal(statuses(missed)['discovery-appear'], 'MISS');
  assert.match(missed[0]!.detail, /\(\+1 missed\)/);
  const slowProbe = discoveryTargets(result({ probe: [{ address: '10.99.0.2', portsTried: 30, samplesMs: [3100], medianMs: 3100, maxMs: 3100, open: [] }] }));
  assert.equal(statuses(slowProbe)['discovery-probe'], 'MISS');
});

test('a run that could not measure is a MISS that says why, and the description says so too', () => {
  const failed = { error: 'not installed: python3-zeroconf for /usr/bin/python3', failed: true as const };
  for (const line of discoveryTargets(failed)) {
    assert.equal(line.status, 'MISS');
    assert.match(line.detail, /not measured: not installed: python3-zeroconf/);
  }
  assert.match(describeDiscovery(failed), /not measured \(not installed: python3-zeroconf/);
  assert.match(describeDiscovery(result()), /probe 10\.99\.0\.2 \(30 ports\): 2400, 2500 ms; open: none/);
});
