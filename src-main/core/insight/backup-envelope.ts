// The backup file's envelope: a passphrase-encrypted, authenticated container made with Node's
// crypto only. scrypt turns the passphrase and a random salt into 64 bytes: the first 32 are the
// AES-256-GCM key, the last 32 key an HMAC whose first 16 bytes are stored in the header as a key
// check. The check is what lets a wrong passphrase be told apart from a damaged file (GCM alone
// fails the same way for both); it gives a guesser nothing the GCM tag does not already give, and
// every guess still costs one scrypt.
//
// Layout (all integers big-endian):
//   "GATEHOUSE-BACKUP" (16 bytes) | format version (1) | KDF id (1 = scrypt) | log2 N (1) | r (1) |
//   p (1) | salt (16) | nonce (12) | key check (16) | ciphertext … | GCM tag (16)
// The header (everything before the ciphertext) is the GCM additional data, so a changed byte
// anywhere (a lowered N included) is noticed. The plaintext is gzip(JSON) (backup-contents.ts).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const BACKUP_MAGIC = Buffer.from('GATEHOUSE-BACKUP', 'ascii');
export const BACKUP_FORMAT_VERSION = 1;
const KDF_SCRYPT = 1;
/** scrypt cost for new backups: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s here). Older files say their own. */
export const DEFAULT_SCRYPT = { log2N: 15, r: 8, p: 1 } as const;
/** What a file may ask for at most: keeps a hostile file from making restore allocate gigabytes. */
const MAX_LOG2N = 20;
const MAX_R = 16;
const MAX_P = 4;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const CHECK_BYTES = 16;
const TAG_BYTES = 16;
const HEADER_BYTES = BACKUP_MAGIC.length + 5 + SALT_BYTES + NONCE_BYTES + CHECK_BYTES;

/** Why a backup cannot be opened; `reason` tells the UI which sentence it is. */
export class BackupOpenError extends Error {
  override readonly name = 'BackupOpenError';
  constructor(
    readonly reason: 'not-a-backup' | 'newer-format' | 'wrong-passphrase' | 'damaged',
    message: string,
  ) {
    super(message);
  }
}

export const NOT_A_BACKUP = 'The file is damaged or not a Gatehouse backup.';
export const WRONG_PASSPHRASE = 'The passphrase does not open this backup. Check it (it is case-sensitive) and try again.';
export const DAMAGED = 'The file is damaged or not a Gatehouse backup: the passphrase is right, but the contents do not match their seal (a changed or cut-short file).';

interface KdfParams {
  log2N: number;
  r: number;
  p: number;
}

function deriveKeys(passphrase: string, salt: Buffer, kdf: KdfParams): Promise<{ key: Buffer; checkKey: Buffer }> {
  const N = 2 ** kdf.log2N;
  // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly N=2^15, r=8, so it is raised.
  const maxmem = 128 * N * kdf.r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 64, { N, r: kdf.r, p: kdf.p, maxmem }, (error, derived) => {
      if (error) reject(error);
      else resolve({ key: derived.subarray(0, 32), checkKey: derived.subarray(32) });
    });
  });
}

function keyCheck(checkKey: Buffer, headerWithoutCheck: Buffer): Buffer {
  return createHmac('sha256', checkKey).update(headerWithoutCheck).digest().subarray(0, CHECK_BYTES);
}

/** Encrypts `payload` (any JSON value) under `passphrase`. */
export async function sealBackup(payload: unknown, passphrase: string, kdf: KdfParams = DEFAULT_SCRYPT): Promise<Buffer> {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const { key, checkKey } = await deriveKeys(passphrase, salt, kdf);
  const head = Buffer.concat([BACKUP_MAGIC, Buffer.from([BACKUP_FORMAT_VERSION, KDF_SCRYPT, kdf.log2N, kdf.r, kdf.p]), salt, nonce]);
  const header = Buffer.concat([head, keyCheck(checkKey, head)]);
  const plain = await gzipAsync(Buffer.from(JSON.stringify(payload), 'utf8'));
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** Reads the header without the passphrase: whether this is a backup at all, and its format. */
function readHeader(file: Buffer): { kdf: KdfParams; salt: Buffer; nonce: Buffer; check: Buffer; header: Buffer } {
  if (file.length < HEADER_BYTES + TAG_BYTES || !file.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) throw new BackupOpenError('not-a-backup', NOT_A_BACKUP);
  let at = BACKUP_MAGIC.length;
  const version = file[at++]!;
  if (version > BACKUP_FORMAT_VERSION) {
    throw new BackupOpenError('newer-format', `This backup was made by a newer Gatehouse (backup format ${version}; this one reads format ${BACKUP_FORMAT_VERSION}). Update Gatehouse, then restore it.`);
  }
  if (version < 1) throw new BackupOpenError('not-a-backup', NOT_A_BACKUP);
  const kdfId = file[at++]!;
  const kdf = { log2N: file[at++]!, r: file[at++]!, p: file[at++]! };
  if (kdfId !== KDF_SCRYPT || kdf.log2N < 10 || kdf.log2N > MAX_LOG2N || kdf.r < 1 || kdf.r > MAX_R || kdf.p < 1 || kdf.p > MAX_P) throw new BackupOpenError('damaged', NOT_A_BACKUP);
  const salt = file.subarray(at, (at += SALT_BYTES));
  const nonce = file.subarray(at, (at += NONCE_BYTES));
  const check = file.subarray(at, (at += CHECK_BYTES));
  return { kdf, salt, nonce, check, header: file.subarray(0, HEADER_BYTES) };
}

/** Decrypts a backup; BackupOpenError with the sentence to show when it cannot. */
export async function openBackup(file: Buffer, passphrase: string): Promise<unknown> {
  const { kdf, salt, nonce, check, header } = readHeader(file);
  const { key, checkKey } = await deriveKeys(passphrase, salt, kdf);
  const expected = keyCheck(checkKey, header.subarray(0, HEADER_BYTES - CHECK_BYTES));
  if (!timingSafeEqual(expected, check)) throw new BackupOpenError('wrong-passphrase', WRONG_PASSPHRASE);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(header);
  decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(file.subarray(HEADER_BYTES, file.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new BackupOpenError('damaged', DAMAGED);
  }
  try {
    return JSON.parse((await gunzipAsync(plain)).toString('utf8')) as unknown;
  } catch {
    // Authenticated but not gzip(JSON): only a buggy writer makes that.
    throw new BackupOpenError('damaged', DAMAGED);
  }
}
