// The sticky cookie's key outlives a restart (src-main/core/upstreams/sticky-key.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadStickyKey, STICKY_KEY_FILE } from '../../src-main/core/upstreams/sticky-key.js';

test('the key is made once, kept 0600, read back the same, and a damaged file is replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sticky-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await loadStickyKey(dir);
  assert.equal(first.length, 32);
  assert.equal(statSync(join(dir, STICKY_KEY_FILE)).mode & 0o777, 0o600);
  assert.deepEqual(await loadStickyKey(dir), first, 'a second start reads the same key');
  writeFileSync(join(dir, STICKY_KEY_FILE), 'not a key\n');
  const replaced = await loadStickyKey(dir);
  assert.notDeepEqual(replaced, first);
  assert.equal(readFileSync(join(dir, STICKY_KEY_FILE), 'utf8').trim(), replaced.toString('hex'));
});
