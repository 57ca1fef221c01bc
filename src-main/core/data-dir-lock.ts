// One Gatehouse per data directory. The desktop app and `gatehouse serve` default to the same
// folder; two processes there would each keep their own copy of the settings and the last to save
// would silently undo what the other had acknowledged. The lock file names the owner's pid, and a
// lock whose process is gone (a crash, a power cut) is taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../shared/api.js';

export const LOCK_FILE = 'gatehouse.lock';

/** Lock files this process holds. A file with our pid that is not here is stale: a restart in a container often gets the same pid. */
const held = new Set<string>();

export interface DataDirLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user, which still means the folder is in use.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerOf(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Takes the data directory for this process, or throws a `conflict` naming the process that has it. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = join(dataDir, LOCK_FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      held.add(file);
      return { release: () => release(file) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await ownerOf(file);
    const inUse = owner === process.pid ? held.has(file) : owner !== null && isAlive(owner);
    if (inUse) {
      throw new ApiError('conflict', `Another Gatehouse (process ${owner}) is already using ${dataDir}.`, {
        fix: `Quit the other one first (the desktop app and "gatehouse serve" share this folder by default), or give this one its own folder with --data-dir. If no Gatehouse is running, delete ${file}.`,
      });
    }
    // The owner is gone: take the lock over (another starter may race us; the loop settles it).
    await rm(file, { force: true });
  }
  throw new ApiError('conflict', `Could not take ${file}: another Gatehouse keeps starting in ${dataDir}.`);
}

async function release(file: string): Promise<void> {
  if (!held.delete(file)) return;
  if ((await ownerOf(file)) === process.pid) await rm(file, { force: true });
}
