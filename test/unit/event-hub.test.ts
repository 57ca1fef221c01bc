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
