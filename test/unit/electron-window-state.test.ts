// The remembered window size and place (src-main/electron/window-state.ts): what a stored file may
// hold, when the saved place is still on a screen, and the debounced durable write.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DEFAULT_WINDOW_SIZE,
  initialBounds,
  isReachable,
  minimumSize,
  parseWindowState,
  readWindowState,
  WINDOW_STATE_FILE,
  WindowStateSaver,
  type Rect,
} from '../../src-main/electron/window-state.js';

const work = mkdtempSync(join(tmpdir(), 'gatehouse-window-state-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A 1920×1080 screen with a 40 px panel at the bottom, and a second one to its right. */
const left: Rect = { x: 0, y: 0, width: 1920, height: 1040 };
const right: Rect = { x: 1920, y: 0, width: 2560, height: 1400 };

describe('parseWindowState', () => {
  it('reads what the saver writes', () => {
    const state = { x: 100, y: -20, width: 1200, height: 800, maximized: true };
    assert.deepEqual(parseWindowState(JSON.stringify(state)), state);
  });

  it('refuses anything else, so a damaged file only costs the window its place', () => {
    for (const text of [
      '',
      'not json',
      '[]',
      'null',
      '{"x":0,"y":0,"width":1200,"height":800}',
      '{"x":0,"y":0,"width":1200,"height":800,"maximized":"no"}',
      '{"x":0.5,"y":0,"width":1200,"height":800,"maximized":false}',
      '{"x":0,"y":0,"width":0,"height":800,"maximized":false}',
      '{"x":0,"y":0,"width":-5,"height":800,"maximized":false}',
      '{"x":"0","y":0,"width":1200,"height":800,"maximized":false}',
      '{"x":1e9,"y":0,"width":1200,"height":800,"maximized":false}',
      '{"x":0,"y":0,"width":1200,"height":1e300,"maximized":false}',
    ]) {
      assert.equal(parseWindowState(text), null, text);
    }
  });
});

describe('isReachable', () => {
  it('is true when the title bar is on a screen, on either display', () => {
    assert.equal(isReachable({ x: 100, y: 100, width: 1200, height: 800 }, [left, right]), true);
    assert.equal(isReachable({ x: 2500, y: 200, width: 1200, height: 800 }, [left, right]), true);
    assert.equal(isReachable({ x: 1500, y: 100, width: 1200, height: 800 }, [left, right]), true, 'across both');
  });

  it('is false when the screen it was on is gone, or only a sliver of the title bar shows', () => {
    assert.equal(isReachable({ x: 2500, y: 200, width: 1200, height: 800 }, [left]), false, 'monitor unplugged');
    assert.equal(isReachable({ x: 1900, y: 100, width: 1200, height: 800 }, [left]), false, '20 px left on screen');
    assert.equal(isReachable({ x: 100, y: -500, width: 1200, height: 800 }, [left]), false, 'title bar above the screen');
    assert.equal(isReachable({ x: 100, y: 1030, width: 1200, height: 800 }, [left]), false, 'title bar under the panel');
    assert.equal(isReachable({ x: 100, y: 100, width: 1200, height: 800 }, []), false);
  });
});

describe('initialBounds', () => {
  it('restores a reachable place and size', () => {
    assert.deepEqual(initialBounds({ x: 2600, y: 50, width: 1400, height: 900, maximized: false }, [left, right], left), {
      x: 2600,
      y: 50,
      width: 1400,
      height: 900,
      maximized: false,
    });
  });

  it('centres the default size on the primary screen when the place is unreachable or unknown', () => {
    const expected = { ...DEFAULT_WINDOW_SIZE, maximized: false };
    assert.deepEqual(initialBounds({ x: 2600, y: 50, width: 1400, height: 900, maximized: false }, [left], left), expected);
    assert.deepEqual(initialBounds(null, [left], left), expected);
    assert.deepEqual(initialBounds({ x: 5000, y: 50, width: 1400, height: 900, maximized: true }, [left], left).maximized, true);
  });

  it('never restores below 1024×700, nor bigger than the screen it is on', () => {
    assert.deepEqual(initialBounds({ x: 10, y: 10, width: 400, height: 300, maximized: false }, [left], left), {
      x: 10,
      y: 10,
      width: 1024,
      height: 700,
      maximized: false,
    });
    assert.deepEqual(initialBounds({ x: 10, y: 10, width: 2500, height: 1300, maximized: false }, [left], left), {
      x: 10,
      y: 10,
      width: 1920,
      height: 1040,
      maximized: false,
    });
  });

  it('fits the default to a small laptop screen, and a screen smaller than the minimum gets all of it', () => {
    const laptop: Rect = { x: 0, y: 0, width: 1366, height: 728 };
    assert.deepEqual(initialBounds(null, [laptop], laptop), { width: 1280, height: 728, maximized: false });
    const tiny: Rect = { x: 0, y: 0, width: 1000, height: 600 };
    assert.deepEqual(minimumSize(tiny), { width: 1000, height: 600 });
    assert.deepEqual(initialBounds(null, [tiny], tiny), { width: 1000, height: 600, maximized: false });
  });
});

describe('WindowStateSaver', () => {
  it('writes the newest of many changes once, durably, readable by readWindowState', async () => {
    const dir = mkdtempSync(join(work, 'save-'));
    const saver = new WindowStateSaver(dir, { delayMs: 60_000 });
    for (let x = 0; x < 50; x++) saver.schedule({ x, y: 20, width: 1200, height: 800, maximized: false });
    assert.deepEqual(readdirSync(dir), [], 'nothing written while the window is still moving');
    await saver.flush();
    assert.deepEqual(await readWindowState(dir), { x: 49, y: 20, width: 1200, height: 800, maximized: false });
    assert.deepEqual(readdirSync(dir), [WINDOW_STATE_FILE], 'no temp file left behind');
    assert.equal(statSync(join(dir, WINDOW_STATE_FILE)).mode & 0o777, 0o600);
  });

  it('skips a write that would not change the file, and a flush with nothing pending', async () => {
    const dir = mkdtempSync(join(work, 'same-'));
    const saver = new WindowStateSaver(dir, { delayMs: 60_000 });
    const state = { x: 1, y: 2, width: 1200, height: 800, maximized: false };
    saver.schedule(state);
    await saver.flush();
    const inode = statSync(join(dir, WINDOW_STATE_FILE)).ino;
    saver.schedule({ ...state });
    await saver.flush();
    await saver.flush();
    assert.equal(statSync(join(dir, WINDOW_STATE_FILE)).ino, inode);
  });

  it('reports a failed write and keeps working', async () => {
    const blocker = join(work, 'blocker');
    writeFileSync(blocker, '');
    const errors: unknown[] = [];
    const saver = new WindowStateSaver(join(blocker, 'inside'), { delayMs: 60_000, onError: (error) => errors.push(error) });
    saver.schedule({ x: 1, y: 2, width: 1200, height: 800, maximized: false });
    await saver.flush();
    assert.equal(errors.length, 1);
    assert.match(String((errors[0] as Error).message), /ENOTDIR|ENOENT/);
  });

  it('reads no state from a missing or damaged file', async () => {
    const dir = mkdtempSync(join(work, 'read-'));
    assert.equal(await readWindowState(dir), null);
    writeFileSync(join(dir, WINDOW_STATE_FILE), '{"x":');
    assert.equal(await readWindowState(dir), null);
    assert.equal(readFileSync(join(dir, WINDOW_STATE_FILE), 'utf8'), '{"x":', 'a damaged file is left as it is');
  });
});
