// The bearer token of the admin API: 32 random bytes (base64url) in DATA_DIR/admin-token, readable
// by the owner only, created on the first `serve` and reused after, so scripts keep working. It is
// rotated from POST /auth/token/rotate; deleting the file revokes it and the next start makes a new one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../core/settings/durable-file.js';

export const TOKEN_FILE = 'admin-token';
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,512}$/;

async function writeNewToken(file: string, exclusive: boolean): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  if (!exclusive) {
    await writeFileDurably(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
  // First creation is exclusive ('wx'), so two starts at once cannot hand out different tokens.
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return token;
}

/** The admin token of `dataDir`, created (mode 0600) when there is none or the file holds no token. */
export async function loadAdminToken(dataDir: string): Promise<string> {
  const file = join(dataDir, TOKEN_FILE);
  try {
    return await writeNewToken(file, true);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const token = (await readFile(file, 'utf8')).trim();
  if (!TOKEN_SHAPE.test(token)) return writeNewToken(file, false);
  // A copy or an editor may have widened the mode; the token is a password, so keep it owner-only.
  if (process.platform !== 'win32' && ((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return token;
}

/** Writes a new token over the old one (which stops working once the caller holds the new one). */
export function replaceAdminToken(dataDir: string): Promise<string> {
  return writeNewToken(join(dataDir, TOKEN_FILE), false);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether an Authorization header carries `token` as a bearer credential. Compares digests in
 * constant time, so neither the token's content nor its length leaks through timing.
 */
export function bearerMatches(token: string, authorization: string | undefined): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  const offered = match?.[1] ?? '';
  return timingSafeEqual(digest(offered), digest(token)) && offered.length > 0;
}
