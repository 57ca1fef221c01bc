// DATA_DIR/admin-auth.json: the admin password's hash, the TOTP secret and hashed recovery codes,
// and the hashes of open session ids (so a restart keeps people signed in). Mode 0600, replaced
// whole and fsynced (writeFileDurably). Kept apart from settings.json so no settings export,
// backup or import ever carries it.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { restrictToOwner, writeFileDurably } from '../../core/settings/durable-file.js';

export const AUTH_FILE = 'admin-auth.json';

const StoredSessionSchema = z.object({
  /** SHA-256 (base64url) of the session id; the id itself lives only in the browser's cookie. */
  idHash: z.string().min(1),
  createdAt: z.number(),
  lastSeen: z.number(),
});

const AuthFileSchema = z.object({
  version: z.literal(1),
  password: z.object({ hash: z.string().startsWith('$argon2'), changedAt: z.number() }).nullable(),
  totp: z
    .object({
      /** Base32. A TOTP secret must be kept readable to compute codes; the file's mode is its guard. */
      secret: z.string().min(16),
      /** SHA-256 (hex) of each unused recovery code. */
      recoveryCodeHashes: z.array(z.string()),
      /** The time step of the last code accepted: a code is never accepted twice. */
      lastStep: z.number(),
    })
    .nullable(),
  sessions: z.array(StoredSessionSchema),
});

export type StoredSession = z.infer<typeof StoredSessionSchema>;
export type AuthFileData = z.infer<typeof AuthFileSchema>;

export const emptyAuthFile = (): AuthFileData => ({ version: 1, password: null, totp: null, sessions: [] });

export const sha256 = (text: string, encoding: 'hex' | 'base64url' = 'base64url') => createHash('sha256').update(text).digest(encoding);

/** Tells one version of the file from the next: every durable write renames a new inode into place. */
export interface FileIdentity {
  ino: number;
  mtimeMs: number;
  size: number;
}

export const sameIdentity = (a: FileIdentity | null, b: FileIdentity | null) =>
  a === b || (a !== null && b !== null && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size);

export function authFilePath(dataDir: string): string {
  return join(dataDir, AUTH_FILE);
}

export async function authFileIdentity(dataDir: string): Promise<FileIdentity | null> {
  try {
    const { ino, mtimeMs, size } = await stat(authFilePath(dataDir));
    return { ino, mtimeMs, size };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The file's content (empty when there is none). A damaged file is an error naming it and the way out. */
export async function readAuthFile(dataDir: string): Promise<{ data: AuthFileData; identity: FileIdentity | null }> {
  const path = authFilePath(dataDir);
  const identity = await authFileIdentity(dataDir);
  if (!identity) return { data: emptyAuthFile(), identity };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { data: emptyAuthFile(), identity: null };
    throw error;
  }
  let parsed;
  try {
    parsed = AuthFileSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = null;
  }
  if (!parsed?.success) {
    throw Object.assign(new Error(`${path} is damaged. Remove it and run "gatehouse set-password" to set the admin password again.`), { code: 'EBADAUTHFILE' });
  }
  // A copy or an editor may have widened the mode; the file holds secrets.
  await restrictToOwner(path);
  return { data: parsed.data, identity };
}

export async function writeAuthFile(dataDir: string, data: AuthFileData): Promise<FileIdentity | null> {
  await writeFileDurably(authFilePath(dataDir), `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  return authFileIdentity(dataDir);
}
