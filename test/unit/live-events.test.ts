// The pacing of live events: TrailingThrottle runs a burst once on the next turn and later requests
// no sooner than the interval after the last run, with the newest state; LogBatches keeps at most
// LOG_BATCH_MAX_ENTRIES of a batch, dropping the oldest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessLogEntry } from '../../shared/status.js';
import { LOG_BATCH_MAX_ENTRIES, LogBatches } from '../../src-main/core/gateway/log-batches.js';
import { TrailingThrottle } from '../../src-main/core/gateway/trailing-throttle.js';

function entry(path: string): AccessLogEntry {
  return { time: new Date(0).toISOString(), client: '127.0.0.1', host: 'a.test', method: 'GET', path, status: 200, bytes: 0, durationMs: 1, routeId: 'a', upstream: null, error: null, detail: null, rule: null, user: null };
}

/** Resolves with the value `read` gives at the throttle's next run. */
function nextRun<T>(runs: (() => void)[], read: () => T): Promise<{ value: T; at: number }> {
  return new Promise((resolve) => runs.push(() => resolve({ value: read(), at: performance.now() })));
}

test('a burst runs once on the next turn; a later request waits out the interval and sees the newest state', async () => {
  const intervalMs = 150;
  const waiting: (() => void)[] = [];
  let runs = 0;
  let state = 0;
  const throttle = new TrailingThrottle(() => {
    runs++;
    for (const resolve of waiting.splice(0)) resolve();
  }, intervalMs);

  const first = nextRun(waiting, () => state);
  for (let i = 1; i <= 5; i++) {
    state = i;
    throttle.request();
  }
  assert.equal(runs, 0, 'nothing runs inside the turn that asked');
  const firstRun = await first;
  assert.deepEqual([runs, firstRun.value], [1, 5], 'five requests in one turn: one run, with the last state');

  const second = nextRun(waiting, () => state);
  for (let i = 6; i <= 8; i++) {
    state = i;
    throttle.request();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const secondRun = await second;
  assert.deepEqual([runs, secondRun.value], [2, 8], 'requests spread over turns still share one run');
  // Timers may fire a millisecond early.
  assert.ok(secondRun.at - firstRun.at >= intervalMs - 2, `the second run came ${(secondRun.at - firstRun.at).toFixed(1)} ms after the first`);

  throttle.request();
  throttle.cancel();
  await new Promise((resolve) => setTimeout(resolve, intervalMs + 20));
  assert.equal(runs, 2, 'a cancelled run does not happen');
});

test(`a log batch keeps the newest ${LOG_BATCH_MAX_ENTRIES} entries of a flood, in order`, async () => {
  const sent: AccessLogEntry[][] = [];
  const batches = new LogBatches(
    () => true,
    (entries) => sent.push(entries),
  );
  const flood = LOG_BATCH_MAX_ENTRIES + 250;
  for (let i = 0; i < flood; i++) batches.add(entry(`/${i}`));
  await new Promise((resolve) => setTimeout(resolve, 0));
  batches.close();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.length, LOG_BATCH_MAX_ENTRIES);
  assert.equal(sent[0]![0]!.path, `/${flood - LOG_BATCH_MAX_ENTRIES}`, 'the oldest were left out');
  assert.equal(sent[0]!.at(-1)!.path, `/${flood - 1}`);
});

test('with nobody listening an entry is neither kept nor sent', async () => {
  let listening = false;
  const sent: AccessLogEntry[][] = [];
  const batches = new LogBatches(
    () => listening,
    (entries) => sent.push(entries),
  );
  batches.add(entry('/unheard'));
  listening = true;
  batches.add(entry('/heard'));
  await new Promise((resolve) => setTimeout(resolve, 0));
  batches.close();
  assert.deepEqual(sent.map((batch) => batch.map((e) => e.path)), [['/heard']]);
});
