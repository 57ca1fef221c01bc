import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiEvent } from '../../shared/api.js';
import { EventHub } from '../../src-main/core/gateway/event-hub.js';

const event: ApiEvent = { type: 'routes', data: [] };

test('every subscriber gets each event; unsubscribing stops delivery', () => {
  const hub = new EventHub();
  const seen: string[] = [];
  const stopA = hub.subscribe(() => seen.push('a'));
  hub.subscribe(() => seen.push('b'));
  hub.emit(event);
  stopA();
  hub.emit(event);
  assert.deepEqual(seen, ['a', 'b', 'b']);
  assert.equal(hub.size, 1);
});

test('a listener that unsubscribes another during an emit does not break the loop', () => {
  const hub = new EventHub();
  const seen: string[] = [];
  let stopB: () => void = () => {};
  hub.subscribe(() => {
    seen.push('a');
    stopB();
  });
  stopB = hub.subscribe(() => seen.push('b'));
  hub.subscribe(() => seen.push('c'));
  hub.emit(event);
  hub.emit(event);
  assert.deepEqual(seen, ['a', 'c', 'a', 'c']);
});

test('a throwing listener is reported and the others still run', (t) => {
  const hub = new EventHub();
  const errors = t.mock.method(console, 'error', () => {});
  const seen: string[] = [];
  hub.subscribe(() => {
    throw new Error('broken listener');
  });
  hub.subscribe(() => seen.push('ok'));
  hub.emit(event);
  assert.deepEqual(seen, ['ok']);
  assert.equal(errors.mock.callCount(), 1);
});

test('a subscriber to some types gets only those, and the hub knows which types anyone wants', () => {
  const hub = new EventHub();
  const seen: string[] = [];
  assert.equal(hub.wants('log'), false);
  const stopStatus = hub.subscribe((e) => seen.push(`status-only:${e.type}`), ['status']);
  assert.equal(hub.wants('status'), true);
  assert.equal(hub.wants('log'), false, 'a status-only subscriber does not make log events worth gathering');
  hub.emit(event);
  hub.emit({ type: 'log', data: [] });
  hub.emit({ type: 'status', data: { state: 'stopped' } as never });
  assert.deepEqual(seen, ['status-only:status']);

  const stopAll = hub.subscribe((e) => seen.push(`all:${e.type}`));
  assert.equal(hub.wants('log'), true);
  stopAll();
  stopAll(); // twice is harmless, and does not count the other subscriber out
  assert.equal(hub.wants('log'), false);
  assert.equal(hub.wants('status'), true);
  stopStatus();
  assert.equal(hub.wants('status'), false);
});
