// Secrets Gatehouse keeps for ACME (DNS provider credentials, EAB HMAC keys): encrypted at rest,
// in DATA_DIR/acme/secrets/ with mode 0600, and never returned by the API (it says only whether
// one is set). The encryption is a SecretBox: Electron's safeStorage (the OS keystore) in the
// desktop app (src-main/electron/secret-box.ts), otherwise AES-256-GCM with a key file (0600) in
// the data directory. A secret that cannot be opened (a damaged file, a lost key, a data directory
// moved from the desktop app to `gatehouse serve`) is an error asking for the credentials again.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../../settings/durable-file.js';

/** Encrypts and decrypts secrets; `kind` tells the UI where the key lives. */
export interface SecretBox {
  readonly kind: 'os-keystore' | 'key-file';
  encrypt(plain: string): Promise<Buffer>;
  decrypt(sealed: Buffer): Promise<string>;
}

export interface SecretStore {
  readonly storedIn: SecretBox['kind'];
  get(id: string): Promise<string | null>;
  has(id: string): boolean;
  set(id: string, value: string): Promise<void>;
  remove(id: string): Promise<void>;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
export const SECRET_KEY_FILE = 'secret.key';
/** Each sealed file starts with the box that sealed it, so a mismatch is named rather than guessed. */
const BOX_TAGS: Record<SecretBox['kind'], number> = { 'key-file': 0x4b, 'os-keystore': 0x4f };
/** Sealed by the key-file box: version, 12-byte IV, 16-byte GCM tag, ciphertext. */
const KEY_FILE_VERSION = 1;

/** A stored secret that cannot be opened; its message says to enter the credentials again. */
export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError';
  constructor(
    readonly id: string,
    reason: string,
  ) {
    super(`The stored secret "${id}" cannot be decrypted (${reason}); enter the credentials again.`);
  }
}

function assertId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(id)) throw new RangeError(`"${id}" is not a secret id (letters, digits, . _ -)`);
}

async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (process.platform !== 'win32') await fs.chmod(dir, DIR_MODE);
}

/** AES-256-GCM with a random 32-byte key kept in DATA_DIR/acme/secret.key (0600), made on first use. */
export async function keyFileSecretBox(dataDir: string): Promise<SecretBox> {
  const dir = join(dataDir, 'acme');
  const path = join(dir, SECRET_KEY_FILE);
  await ensureDir(dir);
  let key: Buffer | null = null;
  try {
    const text = (await fs.readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (key === null) {
    // A damaged key file cannot be repaired: secrets sealed with it are lost and are asked for again.
    key = randomBytes(32);
    await writeFileDurably(path, `${key.toString('hex')}\n`, { mode: FILE_MODE });
  }
  const secretKey = key;
  return {
    kind: 'key-file',
    async encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secretKey, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([KEY_FILE_VERSION]), iv, cipher.getAuthTag(), body]);
    },
    async decrypt(sealed) {
      if (sealed.length < 29 || sealed[0] !== KEY_FILE_VERSION) throw new Error('the file is not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', secretKey, sealed.subarray(1, 13));
      decipher.setAuthTag(sealed.subarray(13, 29));
      try {
        return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(`it was sealed with another key than ${path}`);
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}

/** DATA_DIR/acme/secrets/<id>.bin, each sealed by `box`. */
export async function openSecretStore(dataDir: string, box?: SecretBox): Promise<SecretStore> {
  const sealer = box ?? (await keyFileSecretBox(dataDir));
  const dir = join(dataDir, 'acme', 'secrets');
  await ensureDir(join(dataDir, 'acme'));
  await ensureDir(dir);
  const ids = new Set((await fs.readdir(dir)).filter((entry) => entry.endsWith('.bin')).map((entry) => entry.slice(0, -4)));
  const pathOf = (id: string) => {
    assertId(id);
    return join(dir, `${id}.bin`);
  };

  return {
    storedIn: sealer.kind,
    has: (id) => ids.has(id),
    async get(id) {
      let sealed: Buffer;
      try {
        sealed = await fs.readFile(pathOf(id));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new SecretUnreadableError(id, (error as Error).message);
      }
      const tag = sealed[0];
      // Desktop secrets sealed before the OS keystore was usable stay readable with their key file.
      if (tag === BOX_TAGS['key-file'] && sealer.kind === 'os-keystore' && (await exists(join(dataDir, 'acme', SECRET_KEY_FILE)))) {
        try {
          return await (await keyFileSecretBox(dataDir)).decrypt(sealed.subarray(1));
        } catch (error) {
          throw new SecretUnreadableError(id, (error as Error).message);
        }
      }
      if (tag !== BOX_TAGS[sealer.kind]) {
        const where = tag === BOX_TAGS['os-keystore'] ? "the desktop app's OS keystore, which this run cannot use" : tag === BOX_TAGS['key-file'] ? 'the key file, while this run uses the OS keystore' : 'nothing Gatehouse knows';
        throw new SecretUnreadableError(id, `it was sealed with ${where}`);
      }
      try {
        return await sealer.decrypt(sealed.subarray(1));
      } catch (error) {
        throw new SecretUnreadableError(id, (error as Error).message);
      }
    },
    async set(id, value) {
      const sealed = Buffer.concat([Buffer.from([BOX_TAGS[sealer.kind]]), await sealer.encrypt(value)]);
      await writeFileDurably(pathOf(id), sealed, { mode: FILE_MODE });
      ids.add(id);
    },
    async remove(id) {
      await fs.rm(pathOf(id), { force: true });
      ids.delete(id);
    },
  };
}
