// The fixed-capacity counter table: however many distinct keys arrive, it holds at most its
// capacity (a flood from a million addresses must not grow the process), reuses idle slots first,
// gives a key that keeps coming back a second chance over one-off keys, and allocates its slots once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BoundedTable } from '../../src-main/core/access/bounded-table.js';

const neverIdle = () => false;

// A full collection before each reading, so garbage from evicted keys is not counted as growth.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('1,000,000 distinct keys: the table stays at its capacity and memory stays bounded', () => {
  const capacity = 100_000;
  const table = new BoundedTable(capacity, (t, slot, now) => (t.a[slot] as number) <= now);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 1_000_000; i++) {
    const key = `0 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    let slot = table.find(key);
    if (slot === -1) slot = table.insert(key, i);
    table.a[slot] = i + 1_000_000; // owed: never idle during the loop
  }
  assert.equal(table.size, capacity);
  assert.equal(table.evictions, 1_000_000 - capacity);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  // 100,000 keys of ~16 characters, the Map's entries and 2.1 MB of slots: about 10 MB.
  assert.ok(grown < 24 * 1024 * 1024, `the heap grew ${Math.round(grown / 1048576)} MB for 100,000 keys`);
});

test('an idle slot is reused before a busy one', () => {
  const table = new BoundedTable(3, (t, slot, now) => (t.a[slot] as number) <= now);
  for (const [key, fullAt] of [['busy1', 100], ['idle', 5], ['busy2', 100]] as const) table.a[table.insert(key, 0)] = fullAt;
  table.insert('new', 10);
  assert.equal(table.find('idle'), -1, 'the idle key went');
  for (const kept of ['busy1', 'busy2', 'new']) assert.notEqual(table.find(kept), -1, kept);
});

test('a key used again gets a second chance over keys seen once', () => {
  const table = new BoundedTable(3, neverIdle);
  for (const key of ['regular', 'once1', 'once2']) table.insert(key, 0);
  table.find('regular'); // a second request
  table.insert('once3', 0);
  table.insert('once4', 0);
  assert.notEqual(table.find('regular'), -1, 'the returning key is kept');
  assert.equal(table.size, 3);
});

test('delete frees the key, clear empties the table, and a capacity below 1 is refused', () => {
  const table = new BoundedTable(2, neverIdle);
  table.insert('a', 0);
  assert.ok(table.delete('a'));
  assert.ok(!table.delete('a'));
  assert.equal(table.size, 0);
  table.insert('b', 0);
  table.insert('c', 0);
  table.insert('d', 0);
  assert.equal(table.size, 2);
  table.clear();
  assert.equal(table.size, 0);
  assert.throws(() => new BoundedTable(0, neverIdle), /at least one key/);
});
