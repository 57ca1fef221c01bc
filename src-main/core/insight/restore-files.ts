// Writing a backup's files into the data directory. Everything it replaces is first copied to
// DATA_DIR/replaced-<time>/ (same relative paths, sealed secrets and settings.json included), then
// the backed-up files that the backup lacks are removed, its files written durably (temp + fsync +
// rename), and its secrets sealed again with this machine's box. A failure part-way puts the
// previous files and secrets back from memory (the kept copy stays as well).
import { promises as fs } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { SecretStore } from '../certs/acme/secret-store.js';
import { writeFileDurably } from '../settings/durable-file.js';
import { filesUnder, type BackupContents } from './backup-contents.js';
import { classify } from './backup-inventory.js';

const DIR_MODE = 0o700;

const full = (dataDir: string, path: string) => join(dataDir, ...path.split('/'));

/** Keys and other secrets are owner-only whatever the backup says; nothing is ever group- or world-writable. */
const SECRET_FILE = /(^|\/)([^/]*key(\.next)?\.pem|[^/]*\.key|crowdsec-key|access-users\.json|account\.json)$/;
export function restoredMode(path: string, mode: number): number {
  return SECRET_FILE.test(path) ? 0o600 : mode & 0o644;
}

/** Copies every file a restore may replace (settings, backed-up files, sealed secrets) to `keptIn`. */
export async function keepAside(dataDir: string, keptIn: string): Promise<number> {
  let kept = 0;
  await fs.mkdir(keptIn, { recursive: true, mode: DIR_MODE });
  for (const path of await filesUnder(dataDir)) {
    const entry = classify(path);
    if (!entry || entry.class === 'excluded') continue;
    const source = full(dataDir, path);
    const target = full(keptIn, path);
    await fs.mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    const stat = await fs.stat(source);
    await writeFileDurably(target, await fs.readFile(source), { mode: stat.mode & 0o777 });
    kept++;
  }
  return kept;
}

/** Makes the data directory's backed-up files and secrets exactly those of `contents` (settings apart). */
export async function writeContents(dataDir: string, contents: BackupContents, secrets: SecretStore): Promise<void> {
  const wanted = new Set(contents.files.map((file) => file.path));
  for (const path of await filesUnder(dataDir)) {
    if (classify(path)?.class !== 'file' || wanted.has(path)) continue;
    await fs.rm(full(dataDir, path), { force: true });
    // A leaf's, import's or account's folder left empty goes too (the loaders skip it anyway).
    await fs.rmdir(dirname(full(dataDir, path))).catch(() => undefined);
  }
  for (const file of contents.files) {
    const target = full(dataDir, file.path);
    await fs.mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    await writeFileDurably(target, Buffer.from(file.base64, 'base64'), { mode: restoredMode(file.path, file.mode) });
  }
  const keep = new Set(contents.secrets.map((secret) => secret.id));
  for (const path of await filesUnder(join(dataDir, 'acme', 'secrets'))) {
    const id = posix.basename(path, '.bin');
    if (path.endsWith('.bin') && !keep.has(id)) await secrets.remove(id);
  }
  for (const secret of contents.secrets) await secrets.set(secret.id, secret.value);
}

/** `writeContents`, undone from `previous` (what was there, read before) when it fails part-way. */
export async function replaceContents(dataDir: string, restored: BackupContents, previous: BackupContents, secrets: SecretStore): Promise<void> {
  try {
    await writeContents(dataDir, restored, secrets);
  } catch (error) {
    await writeContents(dataDir, previous, secrets).catch((undoError: unknown) => console.error('gatehouse: putting the data directory back after a failed restore failed too:', undoError));
    throw error;
  }
}
