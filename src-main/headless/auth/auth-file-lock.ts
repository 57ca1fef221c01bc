// admin-auth.json has two writers: the running `serve` (sessions, password, second factor) and the
// `gatehouse set-password` command. Each reads the file, changes it and writes it back; without a
// lock, a serve that read just before the command wrote would write the old password back. The
// lock is a file created with O_EXCL that holds the owner's pid; one left by a process that died
// (or older than STALE_MS, in case its pid was reused) is taken over.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AUTH_FILE } from './auth-file.js';

const STALE_MS = 30_000;
const WAIT_MS = 10_000;

export async function withAuthFileLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const path = join(dataDir, `${AUTH_FILE}.lock`);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(path)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${path} has been held for over ${WAIT_MS / 1000} s by another Gatehouse process. If none is running, remove the file.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

async function isStale(path: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    if (Date.now() - info.mtimeMs > STALE_MS) return true;
    const pid = Number(text);
    // An empty file is one being written right now (created, pid not yet in it).
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    return code === 'ESRCH';
  }
}
