// Where route certificates and imported certificates live in the data directory:
//   certs/routes/<route id>/{cert.pem, key.pem}            a local-CA leaf per route
//   certs/custom/<id>/{cert.pem, key.pem, meta.json}       an imported certificate (leaf + chain)
// Folders are owner-only (0700) and keys 0600, since both sit next to secrets; certificates are
// public (0644). Every file is written durably (temp file, fsync, rename), key before certificate,
// so a crash leaves either the old pair or a pair whose mismatch the loader notices.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../settings/durable-file.js';
import { CERTS_DIR_MODE, CERT_FILE_MODE, KEY_FILE_MODE } from './local-ca.js';


export interface StoredPair {
  certificatePem: string;
  privateKeyPem: string;
}

export interface CustomMeta {
  label: string;
  /** ISO time of the import. */
  importedAt: string;
}

export class CertificateFiles {
  readonly routesDir: string;
  readonly customDir: string;

  constructor(readonly certsDir: string) {
    this.routesDir = join(certsDir, 'routes');
    this.customDir = join(certsDir, 'custom');
  }

  /** Every stored route leaf by folder name (see leafFolder); unreadable ones are left out. */
  async loadLeaves(): Promise<Map<string, StoredPair>> {
    const leaves = new Map<string, StoredPair>();
    for (const folder of await subfolders(this.routesDir)) {
      const pair = await readPair(join(this.routesDir, folder));
      if (pair) leaves.set(folder, pair);
    }
    return leaves;
  }

  async saveLeaf(folder: string, pair: StoredPair): Promise<void> {
    await writePair(join(this.routesDir, folder), pair);
  }

  async removeLeaf(folder: string): Promise<void> {
    await fs.rm(join(this.routesDir, folder), { recursive: true, force: true });
  }

  /** Every imported certificate by id, with its meta data; unreadable ones are left out. */
  async loadCustom(): Promise<Map<string, StoredPair & CustomMeta>> {
    const custom = new Map<string, StoredPair & CustomMeta>();
    for (const id of await subfolders(this.customDir)) {
      const dir = join(this.customDir, id);
      const pair = await readPair(dir);
      const meta = await fs.readFile(join(dir, 'meta.json'), 'utf8').then((text) => JSON.parse(text) as Partial<CustomMeta>, (): Partial<CustomMeta> => ({}));
      if (pair) custom.set(id, { ...pair, label: String(meta.label ?? ''), importedAt: String(meta.importedAt ?? '') });
    }
    return custom;
  }

  async saveCustom(id: string, pair: StoredPair, meta: CustomMeta): Promise<void> {
    const dir = join(this.customDir, id);
    await writePair(dir, pair);
    await writeFileDurably(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`, { mode: CERT_FILE_MODE });
  }

  async removeCustom(id: string): Promise<void> {
    await fs.rm(join(this.customDir, id), { recursive: true, force: true });
  }
}

/** Route ids used as folder names as they are: Gatehouse's own ids (newRouteId) have this form. */
const PLAIN_ROUTE_ID = /^[a-z0-9]{1,64}$/;
/**
 * Names Windows reserves for devices in every folder ("con", "nul", "com1"…): a folder of that name
 * cannot be made, or opens the device instead. Checked on every platform, so a data directory moves
 * between machines unchanged.
 */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/;

/**
 * The folder of a route's leaf. A plain id (lower-case letters and digits, at most 64) is used as it
 * is; any other id (one from an edited settings file: upper case, dots, slashes, too long) and a
 * Windows device name are hashed, so no id can name a path outside certs/routes, two ids differing
 * only in case never share a folder on a case-insensitive disk, and every folder can be created.
 */
export function leafFolder(routeId: string): string {
  if (PLAIN_ROUTE_ID.test(routeId) && !WINDOWS_RESERVED.test(routeId)) return routeId;
  return `id-${createHash('sha256').update(routeId).digest('hex').slice(0, 32)}`;
}

/** Writes a key and certificate into `dir`, key first (see the top of this file). */
export async function writePair(dir: string, pair: StoredPair): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: CERTS_DIR_MODE });
  await writeFileDurably(join(dir, 'key.pem'), pair.privateKeyPem, { mode: KEY_FILE_MODE });
  await writeFileDurably(join(dir, 'cert.pem'), pair.certificatePem, { mode: CERT_FILE_MODE });
}

/** The pair stored in `dir`, or null when either file is missing or unreadable. */
export async function readPair(dir: string): Promise<StoredPair | null> {
  try {
    const [certificatePem, privateKeyPem] = await Promise.all([fs.readFile(join(dir, 'cert.pem'), 'utf8'), fs.readFile(join(dir, 'key.pem'), 'utf8')]);
    return { certificatePem, privateKeyPem };
  } catch {
    return null;
  }
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
