// The upstream gate on its own: at most `connections` slots, at most `perClient` per client, freed
// slots handed round robin across waiting clients (one client's backlog never starves another's
// single request), a bounded wait ending in a refusal that names the limit, a bounded number of
// waiters, releases that count once, and cancels for clients gone while waiting. gatedDispatch is
// checked against a fake pool: its slot is freed when the exchange ends, however it ends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dispatcher } from 'undici';
import { busyError, gatedDispatch, UpstreamGate, WAITERS_PER_CONNECTION, type GateRefusal } from '../../src-main/core/upstreams/gate.js';
import type { Upstream } from '../../src-main/core/upstreams/registry.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Asks `gate` for a slot and records what happened to the request. */
function ask(gate: UpstreamGate, client: string, log: string[], name = client) {
  const state: { release: (() => void) | null; refusal: GateRefusal | null; cancel: () => boolean } = { release: null, refusal: null, cancel: () => false };
  state.cancel = gate.acquire(
    client,
    (release) => {
      state.release = release;
      log.push(name);
    },
    (_waited, refusal) => {
      state.refusal = refusal;
      log.push(`refused ${name}`);
    },
  );
  return state;
}

test('grants up to `connections` at once, then makes the rest wait', () => {
  const gate = new UpstreamGate({ connections: 3, perClient: 3, waitMs: 10_000 }, '10.0.0.9:80');
  const log: string[] = [];
  const held = [ask(gate, 'a', log), ask(gate, 'b', log), ask(gate, 'c', log)];
  const fourth = ask(gate, 'd', log);
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.equal(gate.inFlight, 3);
  assert.equal(gate.waiting, 1);
  held[1]?.release?.();
  assert.deepEqual(log, ['a', 'b', 'c', 'd']);
  assert.equal(gate.inFlight, 3);
  assert.equal(gate.waiting, 0);
  for (const h of [...held, fourth]) h.release?.();
  assert.equal(gate.inFlight, 0);
});

test('one client holds at most perClient slots, even with the upstream idle otherwise', () => {
  const gate = new UpstreamGate({ connections: 10, perClient: 2, waitMs: 10_000 });
  const log: string[] = [];
  const first = ask(gate, 'hog', log, 'hog1');
  ask(gate, 'hog', log, 'hog2');
  const third = ask(gate, 'hog', log, 'hog3');
  ask(gate, 'other', log);
  assert.deepEqual(log, ['hog1', 'hog2', 'other']);
  assert.equal(gate.heldBy('hog'), 2);
  assert.equal(gate.waiting, 1);
  first.release?.();
  assert.deepEqual(log, ['hog1', 'hog2', 'other', 'hog3']);
  third.cancel(); // already granted: nothing to cancel
  assert.equal(gate.inFlight, 3);
});

test('freed slots go round robin: a backlog of 50 from one client cannot starve single requests from others', () => {
  const gate = new UpstreamGate({ connections: 16, perClient: 16, waitMs: 10_000 });
  const log: string[] = [];
  const holders = Array.from({ length: 16 }, (_, i) => i).map((i) => ask(gate, 'hog', log, `hog-held${i}`));
  const backlog = Array.from({ length: 50 }, (_, i) => ask(gate, 'hog', log, `hog${i}`));
  const quick = ask(gate, '192.0.2.7', log, 'quick');
  const quick2 = ask(gate, '192.0.2.8', log, 'quick2');
  log.length = 0;
  // The hog's own requests end one by one; the very first freed slots go to the others.
  holders[0]?.release?.();
  holders[1]?.release?.();
  holders[2]?.release?.();
  assert.deepEqual(log, ['hog0', 'quick', 'quick2']);
  assert.ok(quick.release && quick2.release);
  assert.equal(gate.waiting, 49);
  for (const b of backlog) b.cancel();
  assert.equal(gate.waiting, 0);
});

test('round robin alternates between two clients with backlogs', () => {
  const gate = new UpstreamGate({ connections: 2, perClient: 2, waitMs: 10_000 });
  const log: string[] = [];
  const states = new Map<string, ReturnType<typeof ask>>();
  for (const [client, name] of [['x', 'x0'], ['x', 'x1'], ['a', 'a1'], ['a', 'a2'], ['a', 'a3'], ['b', 'b1'], ['b', 'b2'], ['b', 'b3']] as const) {
    states.set(name, ask(gate, client, log, name));
  }
  // Each time, the oldest request holding a slot ends; the next slot goes to the other client.
  for (let i = 0; i < 6; i++) states.get(log[i] as string)?.release?.();
  assert.deepEqual(log, ['x0', 'x1', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
});

test('a release counts once, however often it is called', () => {
  const gate = new UpstreamGate({ connections: 2, perClient: 2, waitMs: 10_000 });
  const log: string[] = [];
  const a = ask(gate, 'a', log);
  ask(gate, 'b', log);
  ask(gate, 'c', log);
  a.release?.();
  a.release?.();
  a.release?.();
  assert.equal(gate.inFlight, 2, 'a second release must not free the slot b or c holds');
  assert.equal(gate.heldBy('a'), 0);
  assert.deepEqual(log, ['a', 'b', 'c']);
});

test('a client gone while waiting is cancelled: it never gets a slot, and holds no memory', () => {
  const gate = new UpstreamGate({ connections: 1, perClient: 1, waitMs: 10_000 });
  const log: string[] = [];
  const first = ask(gate, 'a', log);
  const gone = ask(gate, 'b', log);
  const next = ask(gate, 'c', log);
  gone.cancel();
  gone.cancel();
  assert.equal(gate.waiting, 1);
  first.release?.();
  assert.deepEqual(log, ['a', 'c']);
  next.release?.();
  assert.equal(gate.inFlight, 0);
  assert.equal(gate.waiting, 0);
  assert.equal(gate.busyRefusals, 0);
});

test('after waitMs a waiter is refused; the detail names the limit, its value and the address', async () => {
  const gate = new UpstreamGate({ connections: 2, perClient: 1, waitMs: 40 }, '10.33.0.4:8096');
  const log: string[] = [];
  ask(gate, 'hog', log);
  const overHog = ask(gate, 'hog', log, 'hog-again');
  ask(gate, 'b', log);
  const overAll = ask(gate, 'c', log);
  await sleep(150);
  assert.deepEqual(log.slice(0, 2), ['hog', 'b']);
  assert.deepEqual(log.slice(2).sort(), ['refused c', 'refused hog-again']);
  assert.equal(overHog.refusal?.limit, 'perClient');
  assert.match(overHog.refusal?.detail ?? '', /already has 1 requests under way to 10\.33\.0\.4:8096.*1 per client/);
  assert.equal(overAll.refusal?.limit, 'connections');
  assert.match(overAll.refusal?.detail ?? '', /Every one of the 2 connections Gatehouse allows to 10\.33\.0\.4:8096 is in use \(0 by your address\) and none freed within \d+ ms/);
  assert.ok((overAll.refusal?.waitedMs ?? 0) >= 35);
  assert.equal(gate.busyRefusals, 2);
  assert.equal(gate.waiting, 0);
  const error = busyError(overAll.refusal as GateRefusal);
  assert.equal(error.code, 'upstream_busy');
  assert.equal(error.status, 503);
  assert.equal(error.refusal?.headers?.['retry-after'], '1');
});

test('waiting is bounded: beyond WAITERS_PER_CONNECTION × connections a request is refused at once', () => {
  const gate = new UpstreamGate({ connections: 2, perClient: 2, waitMs: 10_000 }, 'svc:1');
  const log: string[] = [];
  ask(gate, 'a', log);
  ask(gate, 'a', log);
  const waiters = Array.from({ length: WAITERS_PER_CONNECTION * 2 }, (_, i) => ask(gate, `c${i}`, log));
  assert.equal(gate.waiting, 8);
  const over = ask(gate, 'late', log);
  assert.equal(over.refusal?.limit, 'waiters');
  assert.equal(over.refusal?.waitedMs, 0);
  assert.match(over.refusal?.detail ?? '', /8 requests are already waiting for a connection to svc:1/);
  assert.equal(gate.waiting, 8);
  for (const w of waiters) w.cancel();
  assert.equal(gate.waiting, 0);
});

test('waitMs 0 refuses at once when no slot is free', () => {
  const gate = new UpstreamGate({ connections: 1, perClient: 1, waitMs: 0 });
  const log: string[] = [];
  ask(gate, 'a', log);
  const b = ask(gate, 'b', log);
  assert.equal(b.refusal?.limit, 'connections');
  assert.match(b.refusal?.detail ?? '', /waiting is turned off/);
  assert.equal(gate.waiting, 0);
});

test('waitMs 0 still grants a free slot while clients at their perClient wait (waitMs was lowered)', () => {
  const gate = new UpstreamGate({ connections: 3, perClient: 1, waitMs: 10_000 });
  const log: string[] = [];
  const held = ask(gate, 'hog', log, 'hog1');
  const queued = ask(gate, 'hog', log, 'hog2'); // waits: hog is at perClient, two slots stay free
  gate.setLimits({ connections: 3, perClient: 1, waitMs: 0 });
  assert.equal(gate.waiting, 1);
  const other = ask(gate, 'other', log);
  assert.equal(other.refusal, null, 'a slot nobody waiting could use is not refused');
  assert.deepEqual(log, ['hog1', 'other']);
  // The waiting client is still served first when its own slot frees.
  held.release?.();
  assert.deepEqual(log, ['hog1', 'other', 'hog2']);
  queued.release?.();
  other.release?.();
  assert.equal(gate.inFlight, 0);
});

test('a cancel says whether it withdrew a waiting request', () => {
  const gate = new UpstreamGate({ connections: 1, perClient: 1, waitMs: 10_000 });
  const log: string[] = [];
  const a = ask(gate, 'a', log);
  const b = ask(gate, 'b', log);
  assert.equal(a.cancel(), false, 'granted: nothing to withdraw');
  assert.equal(b.cancel(), true);
  assert.equal(b.cancel(), false, 'only once');
  a.release?.();
  assert.deepEqual(log, ['a']);
  assert.equal(gate.waiting, 0);
});

test('raising the limits hands the new slots to waiters at once', () => {
  const gate = new UpstreamGate({ connections: 1, perClient: 1, waitMs: 10_000 });
  const log: string[] = [];
  ask(gate, 'a', log);
  ask(gate, 'b', log);
  ask(gate, 'c', log);
  gate.setLimits({ connections: 3, perClient: 1, waitMs: 10_000 });
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.equal(gate.inFlight, 3);
});

// ---------------------------------------------------------------------------------------------
// gatedDispatch against a fake pool

type Handler = Dispatcher.DispatchHandler;

function fakeUpstream(limits = { connections: 1, perClient: 1, waitMs: 10_000 }) {
  const dispatched: Handler[] = [];
  const upstream = {
    key: 'k',
    origin: 'http://10.0.0.1:80',
    address: '10.0.0.1:80',
    gate: new UpstreamGate(limits, '10.0.0.1:80'),
    pool: {
      dispatch(_options: Dispatcher.DispatchOptions, handler: Handler) {
        dispatched.push(handler);
        return true;
      },
    },
  } as unknown as Upstream;
  return { upstream, dispatched };
}

const options: Dispatcher.DispatchOptions = { path: '/', method: 'GET' };
const controller = {} as never;

for (const [how, end] of [
  ['answered', (h: Handler) => h.onResponseEnd?.(controller, {})],
  ['failed', (h: Handler) => h.onResponseError?.(controller, new Error('reset'))],
  ['upgraded', (h: Handler) => h.onRequestUpgrade?.(controller, 101, {}, {} as never)],
] as const) {
  test(`gatedDispatch frees the slot once the exchange is ${how}, and passes every event on`, () => {
    const { upstream, dispatched } = fakeUpstream();
    const seen: string[] = [];
    const handler: Handler = {
      onRequestStart: () => seen.push('start'),
      onResponseEnd: () => seen.push('end'),
      onResponseError: () => seen.push('error'),
      onRequestUpgrade: () => seen.push('upgrade'),
    };
    gatedDispatch(upstream, 'a', options, handler, () => seen.push('busy'));
    const waiting: string[] = [];
    gatedDispatch(upstream, 'b', options, { onResponseEnd: () => waiting.push('end') }, () => waiting.push('busy'));
    assert.equal(dispatched.length, 1);
    assert.equal(upstream.gate.waiting, 1);
    dispatched[0]?.onRequestStart?.(controller, {});
    end(dispatched[0] as Handler);
    // A second end (undici's error after an upgrade, say) must not free b's slot too.
    dispatched[0]?.onResponseError?.(controller, new Error('late'));
    assert.equal(dispatched.length, 2, 'the waiting request went out once the first was over');
    assert.equal(upstream.gate.inFlight, 1);
    assert.equal(seen[0], 'start');
    assert.ok(seen.length >= 2);
  });
}

test('gatedDispatch: busy after the wait, nothing dispatched; a cancelled waiter is never dispatched', async () => {
  const { upstream, dispatched } = fakeUpstream({ connections: 1, perClient: 1, waitMs: 30 });
  gatedDispatch(upstream, 'a', options, {}, () => {});
  let refusal: GateRefusal | null = null;
  gatedDispatch(upstream, 'b', options, {}, (_ms, r) => (refusal = r));
  const cancel = gatedDispatch(upstream, 'c', options, {}, () => assert.fail('a cancelled waiter is not refused'));
  cancel();
  await sleep(100);
  assert.equal(dispatched.length, 1);
  assert.equal((refusal as GateRefusal | null)?.limit, 'connections');
});

test('gatedDispatch: a dispatch that throws at once frees its slot and throws to the caller', () => {
  const { upstream } = fakeUpstream();
  (upstream.pool as unknown as { dispatch: () => never }).dispatch = () => {
    throw new Error('invalid header');
  };
  assert.throws(() => gatedDispatch(upstream, 'a', options, {}, () => {}), /invalid header/);
  assert.equal(upstream.gate.inFlight, 0);
});
