// What goes inside the encrypted envelope: the settings in force, every data-directory file the
// inventory backs up (with its permission bits), and every sealed secret opened. Reading a backup
// checks all of it before anything is written: the format, each path against the inventory (a
// path outside it, or with "..", is refused), the settings through the same schema and migrations
// as an import, and every certificate against its key.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../../shared/api.js';
import type { Settings } from '../../../shared/model.js';
import type { SecretStore } from '../certs/acme/secret-store.js';
import { readImport } from '../gateway/settings-transfer.js';
import { classify, restorable } from './backup-inventory.js';

export const CONTENTS_FORMAT = 'gatehouse-backup-contents';
export const CONTENTS_VERSION = 1;

export interface BackupFile {
  /** Relative to the data directory, `/` separators. */
  path: string;
  /** Permission bits (0o600 for keys, 0o644 for certificates). */
  mode: number;
  base64: string;
}

export interface BackupSecret {
  /** The secret store's id ("dns-abc123", "backup-passphrase"). */
  id: string;
  value: string;
}

export interface BackupContents {
  format: typeof CONTENTS_FORMAT;
  version: number;
  createdAt: string;
  gatehouseVersion: string;
  /** The settings in force when the backup was made (any settings version on read: migrated). */
  settings: Settings;
  files: BackupFile[];
  secrets: BackupSecret[];
  /** Files the backup could not carry, in words (a secret this machine cannot open, a file no inventory line names). */
  leftOut: string[];
}

const ContentsSchema = z
  .object({
    format: z.literal(CONTENTS_FORMAT),
    version: z.number().int().min(1),
    createdAt: z.string().max(64),
    gatehouseVersion: z.string().max(64),
    settings: z.unknown(),
    files: z.array(z.object({ path: z.string().max(512), mode: z.number().int().min(0).max(0o777), base64: z.string() }).strict()).max(20_000),
    secrets: z.array(z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/), value: z.string().max(1024 * 1024) }).strict()).max(10_000),
    leftOut: z.array(z.string().max(2000)).max(10_000),
  })
  .strict();

/** Every file under `dir`, relative with `/`; symbolic links and other non-files are skipped. */
export async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(join(dir, prefix), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = prefix ? posix.join(prefix, entry.name) : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(dir, path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export interface CollectInput {
  dataDir: string;
  settings: Settings;
  secrets: SecretStore;
  gatehouseVersion: string;
  now?: Date;
}

/** The data directory as a backup carries it (secrets opened). Also what a preview compares with. */
export async function collectContents(input: CollectInput): Promise<BackupContents> {
  const files: BackupFile[] = [];
  const secrets: BackupSecret[] = [];
  const leftOut: string[] = [];
  for (const path of await filesUnder(input.dataDir)) {
    const entry = classify(path);
    if (entry === null) {
      leftOut.push(`${path} (not in the backup inventory)`);
      continue;
    }
    if (entry.class === 'file') {
      const full = join(input.dataDir, ...path.split('/'));
      const [content, stat] = await Promise.all([fs.readFile(full), fs.stat(full)]);
      files.push({ path, mode: stat.mode & 0o777, base64: content.toString('base64') });
    } else if (entry.class === 'sealed-secret') {
      const id = posix.basename(path, '.bin');
      try {
        const value = await input.secrets.get(id);
        if (value !== null) secrets.push({ id, value });
      } catch (error) {
        leftOut.push(`the secret "${id}" (${(error as Error).message})`);
      }
    }
  }
  return {
    format: CONTENTS_FORMAT,
    version: CONTENTS_VERSION,
    createdAt: (input.now ?? new Date()).toISOString(),
    gatehouseVersion: input.gatehouseVersion,
    settings: structuredClone(input.settings),
    files,
    secrets,
    leftOut,
  };
}

function refused(message: string): ApiError {
  return new ApiError('invalid_input', `This backup cannot be restored, and nothing was changed: ${message}`);
}

/** Checks what came out of the envelope; throws invalid_input with the reason, changes nothing. */
export function readContents(raw: unknown): BackupContents {
  if (typeof raw === 'object' && raw !== null && typeof (raw as { version?: unknown }).version === 'number' && (raw as { version: number }).version > CONTENTS_VERSION) {
    throw refused(`it was made by a newer Gatehouse (contents format ${(raw as { version: number }).version}); update Gatehouse, then restore it.`);
  }
  const parsed = ContentsSchema.safeParse(raw);
  if (!parsed.success) throw refused(`the file is damaged or not a Gatehouse backup (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}).`);
  const contents = parsed.data;
  const seen = new Set<string>();
  for (const file of contents.files) {
    if (!restorable(file.path)) throw refused(`it holds "${file.path}", which is not a file Gatehouse restores.`);
    if (seen.has(file.path)) throw refused(`it holds "${file.path}" twice.`);
    seen.add(file.path);
  }
  let settings: Settings;
  try {
    settings = readImport(contents.settings).settings;
  } catch (error) {
    if (error instanceof ApiError) {
      const message = error.message.replace('This file cannot be imported, and nothing was changed:', 'This backup cannot be restored, and nothing was changed: its settings:').replace('then import it', 'then restore it');
      throw new ApiError(error.code, message, error.details);
    }
    throw error;
  }
  const decoded = { ...contents, settings } as BackupContents;
  checkKeyPairs(decoded);
  return decoded;
}

/** The text of a file in the contents, or null. */
export function fileText(contents: BackupContents, path: string): string | null {
  const file = contents.files.find((candidate) => candidate.path === path);
  return file ? Buffer.from(file.base64, 'base64').toString('utf8') : null;
}

/** Every certificate with a key beside it (the CA, leaves, imports, ACME certificates) must match it. */
function checkKeyPairs(contents: BackupContents): void {
  const pairs: [string, string][] = [['certs/ca.pem', 'certs/ca-key.pem']];
  for (const file of contents.files) if (file.path.endsWith('/cert.pem')) pairs.push([file.path, file.path.replace(/cert\.pem$/, 'key.pem')]);
  for (const [certPath, keyPath] of pairs) {
    const cert = fileText(contents, certPath);
    const key = fileText(contents, keyPath);
    if (cert === null && key === null) continue;
    if (cert === null || key === null) throw refused(`it holds ${cert === null ? keyPath : certPath} without ${cert === null ? certPath : keyPath}.`);
    try {
      const x509 = new X509Certificate(cert);
      const publicKey = createPublicKey(createPrivateKey(key));
      if (!x509.publicKey.equals(publicKey)) throw new Error('the key does not match the certificate');
    } catch (error) {
      throw refused(`${certPath} and its key cannot be used (${(error as Error).message}); the file is damaged.`);
    }
  }
}
