// Spare keys: whenSettled is what a caller waits on instead of guessing how long generating takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpareKeys } from '../../src-main/core/certs/spare-keys.js';

/** Whether take() answers from a ready key: before setImmediate, which a generation on the thread pool cannot beat. */
async function takesSpare(keys: SpareKeys): Promise<boolean> {
  const first = await Promise.race([keys.take().then(() => 'spare'), new Promise((resolve) => setImmediate(() => resolve('generated')))]);
  return first === 'spare';
}

test('whenSettled resolves once the wanted keys are made: the next takes need no generation', async (t) => {
  const keys = new SpareKeys(2);
  t.after(() => keys.close());
  await keys.whenSettled();
  assert.equal(await takesSpare(keys), true);
  assert.equal(await takesSpare(keys), true, 'the second one was ready too');
  await keys.whenSettled();
  assert.equal(await takesSpare(keys), true, 'refilled');
  assert.equal(await takesSpare(keys), true, 'both of them');
});

test('whenSettled resolves on close, though a generation is still under way', async () => {
  const keys = new SpareKeys(1);
  const settled = keys.whenSettled();
  keys.close();
  await settled;
  await new SpareKeys(0).whenSettled();
});
