// The multi-core section of the bench (bench/multicore.mjs): ratios are paired per repetition and
// layout, discarded runs do not count, the target is judged on the leased-token variant, and the IPC
// measurement really crosses a process boundary (a forked echo child) and reports what it saw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeMulticore, measureIpc, multicoreTargets, summarizeRuns, type MulticoreResult, type MulticoreRun } from '../../bench/multicore.mjs';

function run(rep: number, reqPerSec: number, invalid: string | null = null): MulticoreRun {
  return {
    rep,
    reqPerSec,
    requests: reqPerSec * 3,
    latencyMs: { p50: 5, p90: 8, p99: 10 + rep, max: 20 },
    cpuMsPer1000: 100,
    serverCores: 0.9,
    perProcessCores: [0.01, 0.45, 0.44],
    backendCores: 0.1,
    wrkCores: 0.3,
    otherCores: 0.05,
    invalid,
  };
}

function result(twoCore: Record<string, MulticoreRun[]>): MulticoreResult {
  const r: MulticoreResult = {
    reps: 3,
    durationS: 3,
    connections: 64,
    cpuCount: 2,
    layouts: [{ id: 'two', label: 'two cores' }],
    runs: { two: twoCore },
    ipc: null,
    cpuPressure: null,
    error: null,
    started: {},
  };
  r.summary = summarizeRuns(r);
  return r;
}

test('ratios pair each repetition with the one-process run of the same repetition', () => {
  // Rep 2 is a slow moment for everyone: paired, the ratios are 2, 2 and 1.8 (median 2); the
  // medians' ratio would say 1800 / 1000 = 1.8.
  const r = result({
    'gh-1': [run(1, 1000), run(2, 400), run(3, 1000)],
    'gh-2lease': [run(1, 2000), run(2, 800), run(3, 1800)],
  });
  const lease = r.summary?.two?.['gh-2lease'];
  assert.equal(lease?.ratio, 2);
  assert.deepEqual(lease?.ratioSpread, [1.8, 2]);
  assert.equal(lease?.reqPerSec, 1800);
  assert.equal(lease?.p99Ms, 12);
});

test('a discarded run counts neither as a result nor as a base', () => {
  const r = result({
    'gh-1': [run(1, 1000), run(2, 10, 'no request completed')],
    'gh-2lease': [run(1, 1500), run(2, 1600)],
  });
  const lease = r.summary?.two?.['gh-2lease'];
  // rep 2 has no usable base: only rep 1 pairs
  assert.equal(lease?.ratio, 1.5);
  assert.equal(r.summary?.two?.['gh-1']?.runs, 1);
});

test('the target is judged on leased tokens, at 1.6×, and says the upper bound', () => {
  const miss = multicoreTargets(result({ 'gh-1': [run(1, 1000)], 'gh-2rr': [run(1, 1700)], 'gh-2lease': [run(1, 1500)] }));
  assert.equal(miss[0]?.status, 'MISS');
  assert.match(miss[0]?.detail ?? '', /1\.50× with leased tokens; upper bound \(independent workers\) 1\.70×/);
  const pass = multicoreTargets(result({ 'gh-1': [run(1, 1000)], 'gh-2lease': [run(1, 1600)] }));
  assert.equal(pass[0]?.status, 'PASS');
  const broken = multicoreTargets({ ...result({}), error: 'wrk is not installed' });
  assert.equal(broken[0]?.status, 'MISS');
  assert.match(broken[0]?.detail ?? '', /not measured: wrk is not installed/);
});

test('the description names every measured variant with its ratio', () => {
  const text = describeMulticore(result({ 'gh-1': [run(1, 1000)], 'gh-2rr': [run(1, 1800)] }));
  assert.match(text, /Gatehouse, 1 process\s+1,000/);
  assert.match(text, /Gatehouse, 2 workers \(RR\)\s+1,800\s+1\.80×/);
});

test('IPC is measured against a real child process', async () => {
  const ipc = await measureIpc({ roundTrips: 200, messages: 2000, entries: 2000, batch: 100 });
  assert.equal(ipc.roundTripUs.count, 200);
  assert.ok(ipc.roundTripUs.p50 > 0 && ipc.roundTripUs.p99 >= ipc.roundTripUs.p50);
  assert.ok(ipc.pipelined.perSecond > 0 && ipc.pipelined.cpuUsPerMessage > 0);
  assert.ok(ipc.batched.entriesPerSecond > 0 && ipc.batched.cpuUsPerEntry > 0);
  assert.ok(ipc.batchedLines.cpuUsPerEntry > 0);
  assert.ok(ipc.batched.entryBytes > 200);
});
