// Where an ACME account's secrets live: DATA_DIR/acme/accounts/<folder>/ (0700) holding key.pem
// (the account key, 0600) and account.json (its URL at the CA, key type and creation time, 0600).
// Settings hold only what is not secret (shared/acme.ts AcmeAccount); the API never sees these.
//
// A key rollover writes the new key as key.next.pem first and asks the CA; only once the CA took
// it does key.next.pem replace key.pem. A crash in between leaves both, and the next use of the
// account asks the CA which one it knows (AcmeAccounts.#settlePendingKey).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../../settings/durable-file.js';
import { leafFolder } from '../certificate-files.js';

const DIR_MODE = 0o700;
const SECRET_MODE = 0o600;

/** What account.json holds. */
export interface AccountRecord {
  /** The account's URL at the CA (its "kid"). */
  url: string;
  /** "ECDSA P-256". */
  keyType: string;
  /** ISO time the current key was made. */
  keyCreatedAt: string;
}

export interface StoredAccount {
  keyPem: string;
  record: AccountRecord;
  /** A rollover's new key whose fate is unknown (a crash while the CA was asked), or null. */
  nextKeyPem: string | null;
}

export class AccountFiles {
  readonly #root: string;

  constructor(dataDir: string) {
    this.#root = join(dataDir, 'acme', 'accounts');
  }

  dirOf(accountId: string): string {
    return join(this.#root, leafFolder(accountId));
  }

  async read(accountId: string): Promise<StoredAccount | null> {
    const dir = this.dirOf(accountId);
    try {
      const [keyPem, recordText] = await Promise.all([fs.readFile(join(dir, 'key.pem'), 'utf8'), fs.readFile(join(dir, 'account.json'), 'utf8')]);
      const record = JSON.parse(recordText) as AccountRecord;
      if (typeof record.url !== 'string') return null;
      const nextKeyPem = await fs.readFile(join(dir, 'key.next.pem'), 'utf8').catch(() => null);
      return { keyPem, record, nextKeyPem };
    } catch {
      return null;
    }
  }

  /** Writes a registered account: key first, so a record never points at a missing key. */
  async write(accountId: string, keyPem: string, record: AccountRecord): Promise<void> {
    const dir = this.dirOf(accountId);
    await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
    await fs.chmod(dir, DIR_MODE);
    await writeFileDurably(join(dir, 'key.pem'), keyPem, { mode: SECRET_MODE });
    await writeFileDurably(join(dir, 'account.json'), JSON.stringify(record, null, 2), { mode: SECRET_MODE });
  }

  async writeRecord(accountId: string, record: AccountRecord): Promise<void> {
    await writeFileDurably(join(this.dirOf(accountId), 'account.json'), JSON.stringify(record, null, 2), { mode: SECRET_MODE });
  }

  /** Keeps a rollover's new key beside the current one until the CA answered. */
  async stageNextKey(accountId: string, keyPem: string): Promise<void> {
    await writeFileDurably(join(this.dirOf(accountId), 'key.next.pem'), keyPem, { mode: SECRET_MODE });
  }

  /** The CA took the new key: it becomes key.pem (the old key is dropped: the CA no longer knows it). */
  async promoteNextKey(accountId: string, record: AccountRecord): Promise<void> {
    const dir = this.dirOf(accountId);
    await fs.rename(join(dir, 'key.next.pem'), join(dir, 'key.pem'));
    await this.writeRecord(accountId, record);
  }

  async dropNextKey(accountId: string): Promise<void> {
    await fs.rm(join(this.dirOf(accountId), 'key.next.pem'), { force: true });
  }

  async remove(accountId: string): Promise<void> {
    await fs.rm(this.dirOf(accountId), { recursive: true, force: true });
  }
}
