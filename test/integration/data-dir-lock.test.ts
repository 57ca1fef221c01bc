// One Gatehouse per data directory: a second one is refused with a message naming the first, and a
// lock left by a process that died is taken over. Real processes, real files.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ApiError } from '../../shared/api.js';
import { LOCK_FILE, lockDataDir } from '../../src-main/core/data-dir-lock.js';
import { createGateway } from '../../src-main/core/gateway.js';

const dirs: string[] = [];
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-lock-'));
  dirs.push(dir);
  return dir;
}
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

test('a second gateway on a data directory in use is refused, naming the owner and the fix', async () => {
  const dir = await dataDir();
  // The owner: another process holding the lock, like the desktop app while serve starts.
  const owner = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { lockDataDir } = await import(${JSON.stringify(new URL('../../src-main/core/data-dir-lock.ts', import.meta.url).href)});
    await lockDataDir(${JSON.stringify(dir)});
    console.log('locked');
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(owner.stdout, 'data')) as [Buffer];
    assert.match(line.toString(), /locked/);
    await assert.rejects(createGateway({ dataDir: dir, overrides: { httpPort: 0, httpsPort: 0 } }), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.code, 'conflict');
      assert.match(error.message, new RegExp(`process ${owner.pid}`));
      assert.match(error.details.fix ?? '', /--data-dir/);
      return true;
    });
  } finally {
    owner.kill('SIGKILL');
    await once(owner, 'exit');
  }
  // Its owner died without cleaning up: the lock is stale and the next gateway takes it.
  const gateway = await createGateway({ dataDir: dir, overrides: { httpPort: 0, httpsPort: 0 } });
  assert.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid));
  await gateway.close();
  await assert.rejects(readFile(join(dir, LOCK_FILE)), { code: 'ENOENT' }, 'close() releases the lock');
});

test('within one process the directory is exclusive too, until released', async () => {
  const dir = await dataDir();
  const first = await lockDataDir(dir);
  await assert.rejects(lockDataDir(dir), (error: unknown) => error instanceof ApiError && error.code === 'conflict');
  await first.release();
  const second = await lockDataDir(dir);
  await second.release();
});

test('a lock file with our own pid that we do not hold (a restart reusing the pid) is stale', async () => {
  const dir = await dataDir();
  await writeFile(join(dir, LOCK_FILE), `${process.pid}\n`);
  const lock = await lockDataDir(dir);
  await lock.release();
  // A pid that is certainly gone: a process that already exited.
  const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
  await writeFile(join(dir, LOCK_FILE), `${gone}\n`);
  const again = await lockDataDir(dir);
  await again.release();
});
