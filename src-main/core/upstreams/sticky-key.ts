// The key the sticky cookie's tags are made with (see sticky-tag.ts), kept in the data directory so
// a browser pinned to an upstream stays pinned across a restart: with a fresh key every start, each
// client would be placed again once, and an app that keeps its sessions on one server would sign
// everyone out. Mode 0600 like every secret there; a file that is not a key is replaced.
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileDurably } from '../settings/durable-file.js';

export const STICKY_KEY_FILE = 'sticky-cookie.key';

/** The data directory's sticky-cookie key, created on first use. */
export async function loadStickyKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, STICKY_KEY_FILE);
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await writeFileDurably(path, `${key.toString('hex')}\n`, { mode: 0o600 });
  return key;
}
