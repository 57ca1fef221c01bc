// The one-time link stays out of logs: serve's output here is a pipe (as under systemd, whose journal
// keeps everything), so the link is not printed but written to DATA_DIR/once-link, mode 0600, and
// the output names that file. The file goes when the link is spent, when a password is set from
// the command line, and when serve stops; a leftover from a killed serve is removed at start.
import assert from 'node:assert/strict';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { client, PASSWORD, readyLines, runSetPassword } from '../helpers/auth.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

const gone = async (file: string, withinMs = 3000) => {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await access(file);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('the one-time link file', () => {
  const started: ServeProcess[] = [];
  const start = async (dataDir?: string) => {
    const serve = await startServe(dataDir ? { dataDir } : {});
    started.push(serve);
    return serve;
  };
  after(async () => {
    for (const serve of started) await serve.stop().catch(() => undefined);
  });

  test('not printed to a pipe; in a 0600 file the output names, removed once the link is spent', async () => {
    const serve = await start();
    const out = (await readyLines(serve)) + serve.stderr();
    const file = join(serve.dataDir, 'once-link');
    assert.doesNotMatch(out, /\/auth\/once\//, 'the link itself is not in the output');
    assert.ok(out.includes(`in the file ${file} `), out);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const link = (await readFile(file, 'utf8')).trim();
    assert.ok(link.startsWith(new URL('/auth/once/', serve.adminUrl).href), link);
    const used = await client(serve.adminUrl).request(link, { method: 'POST' });
    assert.equal(used.status, 303);
    assert.ok(await gone(file), 'the file outlives the spent link');
  });

  test('removed when set-password sets a password while serve runs, and absent after a restart', async () => {
    const serve = await start();
    await readyLines(serve);
    const file = join(serve.dataDir, 'once-link');
    await access(file);
    assert.equal((await runSetPassword(serve.dataDir, `${PASSWORD}\n`)).code, 0);
    assert.ok(await gone(file), 'the file outlives the link after set-password');
    await serve.stop({ keepDataDir: true });
    const again = await start(serve.dataDir);
    assert.match(await readyLines(again), /^Sign in: +with the admin password/m);
    assert.ok(await gone(file, 0));
  });

  test('removed when serve stops; a leftover is removed when serve starts with a password set', async () => {
    const serve = await start();
    await readyLines(serve);
    const file = join(serve.dataDir, 'once-link');
    await access(file);
    await serve.stop({ keepDataDir: true });
    assert.ok(await gone(file, 0), 'a stopped serve leaves its link file behind');
    assert.equal((await runSetPassword(serve.dataDir, `${PASSWORD}\n`)).code, 0);
    await writeFile(file, 'http://127.0.0.1:1/auth/once/left-over-from-a-killed-serve\n', { mode: 0o600 });
    const again = await start(serve.dataDir);
    await readyLines(again);
    assert.ok(await gone(file, 0), 'a leftover link file stays');
  });
});
