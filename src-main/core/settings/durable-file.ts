// File operations that survive a crash or power cut at any instant. A replaced file is always
// either wholly old or wholly new: the bytes go to a temp file in the same directory (rename is
// atomic only within one file system), are fsynced, renamed over the target, and then the
// directory is fsynced, because the rename is an entry in the directory and is not durable before.
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Marks temp files, so ones left by a crash can be recognised and removed. */
const TEMP_MARK = '.tmp-';

/** Errors meaning "this file system has no hard links" (FAT, some network shares), not a real failure. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

export interface DurableWriteOptions {
  /** Permission bits of the new file, applied regardless of the umask. */
  mode: number;
  /** Where the content being replaced is kept, when there is one. */
  backupPath?: string;
}

/** Replaces `path` with `content`; resolves once the new content and its name are on disk. */
export async function writeFileDurably(path: string, content: string | Uint8Array, options: DurableWriteOptions): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await writeAndSync(temp, content, options.mode);
    if (options.backupPath) await keepCurrentAs(path, options.backupPath, options.mode);
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/**
 * Moves `path` to `wanted` (or `wanted-1`, `wanted-2` … when taken) without ever replacing an
 * existing file, and returns the name used. rename() would silently replace; link() refuses.
 */
export async function moveAsideWithoutReplacing(path: string, wanted: string): Promise<string> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const candidate = attempt === 0 ? wanted : `${wanted}-${attempt}`;
    if (!(await placeCopyExclusively(path, candidate))) continue;
    await fs.unlink(path);
    await syncDirectory(dirname(path));
    return candidate;
  }
  throw new Error(`Cannot keep ${path} aside: ${wanted} and its numbered variants are all taken`);
}

/** Removes temp files a crashed write left next to `path`. One app instance owns a data directory. */
export async function removeLeftoverTempFiles(path: string): Promise<void> {
  const prefix = basename(path) + TEMP_MARK;
  const dir = dirname(path);
  for (const entry of await fs.readdir(dir)) {
    if (entry.startsWith(prefix)) await fs.rm(join(dir, entry), { force: true });
  }
}

/** Removes group and other permissions from a file that has them; the file may sit next to secrets. */
export async function restrictToOwner(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await fs.stat(path);
  if (mode & 0o077) await fs.chmod(path, mode & 0o700);
}

function tempPathFor(path: string): string {
  return `${path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function writeAndSync(path: string, content: string | Uint8Array, mode: number): Promise<void> {
  const handle = await fs.open(path, 'wx', mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes `backupPath` hold what `path` holds now. A hard link does it without a moment where `path`
 * is missing (rename-then-write would leave one) and without copying; it goes to a temp name first
 * because link() will not replace the previous backup, and rename() will.
 */
async function keepCurrentAs(path: string, backupPath: string, mode: number): Promise<void> {
  const temp = tempPathFor(backupPath);
  try {
    await fs.link(path, temp);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return; // the first write: there is nothing to keep yet
    if (!code || !NO_HARD_LINKS.has(code)) throw error;
    await writeAndSync(temp, await fs.readFile(path), mode);
  }
  await fs.rename(temp, backupPath);
}

/** Puts `path`'s content at `target` unless `target` exists; false when it does. */
async function placeCopyExclusively(path: string, target: string): Promise<boolean> {
  try {
    await fs.link(path, target);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return false;
    if (!code || !NO_HARD_LINKS.has(code)) throw error;
  }
  try {
    await fs.copyFile(path, target, constants.COPYFILE_EXCL);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  await syncFile(target); // the original is deleted next, so the copy must be on disk first
  return true;
}

async function syncFile(path: string): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Windows cannot open a directory for fsync, and NTFS journals renames itself. Some network file
 * systems answer EINVAL: they have no directory fsync to offer, so there is nothing more to do.
 */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (errorCode(error) !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
