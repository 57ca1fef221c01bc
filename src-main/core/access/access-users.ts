// The people who may sign in to routes with basic auth: a name and an argon2id hash each, in
// DATA_DIR/access-users.json (mode 0600, replaced durably). No password is ever stored or logged.
//
// Checking argon2 on every request would cost ~15 ms of CPU each (password-hash.ts), and a browser
// sends the same Authorization header with every request. So a successful check is remembered in
// memory for VERIFIED_TTL_MS, keyed by an HMAC of name and password under a key made fresh at each
// start (the table never holds a password, nor anything that can be checked offline after a
// restart); a changed password or a removed user drops that user's entries at once.
import { createHmac, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AccessUser } from '../../../shared/access.js';
import { ApiError } from '../../../shared/api.js';
import { type HashPriorityOf, PasswordHasher } from '../password-hash.js';
import { writeFileDurably } from '../settings/durable-file.js';

export const ACCESS_USERS_FILE = 'access-users.json';
/** How long a successful check is remembered, in ms. Default: 5 minutes. */
export const VERIFIED_TTL_MS = 5 * 60_000;
/** Remembered checks at most (the oldest go first): a few per user and browser. */
export const VERIFIED_MAX = 1000;

const StoredUserSchema = z.object({ name: z.string().min(1), hash: z.string().startsWith('$argon2'), passwordSetAt: z.string() }).strict();
const StoredFileSchema = z.object({ version: z.literal(1), users: z.array(StoredUserSchema) }).strict();
type StoredUser = z.output<typeof StoredUserSchema>;

interface Verified {
  name: string;
  expires: number;
}

export class AccessUsers {
  private stored: StoredUser[] = [];
  private readonly verified = new Map<string, Verified>();
  private readonly key = randomBytes(32);
  /** A hash no password matches, checked for unknown names so that they take as long as known ones. */
  private decoy: Promise<string> | null = null;
  /** The routes' own hash queue, apart from the admin sign-in's (password-hash.ts). */
  private readonly hasher = new PasswordHasher();
  /** Checks under way, by the same key as `verified`; an entry lives only while its hash waits or runs. */
  private readonly checking = new Map<string, Promise<boolean>>();

  constructor(private readonly dataDir: string) {}

  private get path(): string {
    return join(this.dataDir, ACCESS_USERS_FILE);
  }

  /** Reads the users file; a missing file is no users. A damaged one stops the start, naming the file. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // No file is no users (a restore may have removed it): remembered checks go too.
      this.stored = [];
      this.verified.clear();
      return;
    }
    const parsed = StoredFileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${this.path} is not a Gatehouse users file (${parsed.error.issues[0]?.message}); move it aside to start without sign-in users.`);
    this.stored = parsed.data.users;
    this.verified.clear();
  }

  list(): AccessUser[] {
    return this.stored.map(({ name, passwordSetAt }) => ({ name, passwordSetAt }));
  }

  has(name: string): boolean {
    return this.stored.some((user) => user.name === name);
  }

  async add(name: string, password: string): Promise<AccessUser> {
    const clash = this.stored.find((user) => user.name.toLowerCase() === name.toLowerCase());
    if (clash) throw new ApiError('conflict', `A user is already called "${clash.name}"; choose another name, or set that user's password.`, { issues: [{ path: 'name', message: 'this name is taken' }] });
    const user: StoredUser = { name, hash: await this.hasher.hash(password), passwordSetAt: new Date().toISOString() };
    await this.save([...this.stored, user]);
    return { name, passwordSetAt: user.passwordSetAt };
  }

  async setPassword(name: string, password: string): Promise<AccessUser> {
    this.find(name);
    const hash = await this.hasher.hash(password);
    const passwordSetAt = new Date().toISOString();
    await this.save(this.stored.map((user) => (user.name === name ? { name, hash, passwordSetAt } : user)));
    this.forget(name);
    return { name, passwordSetAt };
  }

  async remove(name: string): Promise<AccessUser> {
    const user = this.find(name);
    await this.save(this.stored.filter((candidate) => candidate.name !== name));
    this.forget(name);
    return { name: user.name, passwordSetAt: user.passwordSetAt };
  }

  /** True when `name` signed in with `password` within VERIFIED_TTL_MS: no hashing needed. */
  remembered(name: string, password: string): boolean {
    const key = this.keyOf(name, password);
    const entry = this.verified.get(key);
    if (!entry) return false;
    if (entry.name === name && entry.expires > Date.now()) return true;
    this.verified.delete(key);
    return false;
  }

  /**
   * Checks `password` against `name`'s hash (argon2id, in the routes' queue). `priority` 'later'
   * (a client that got a password wrong recently) may be refused as busy to make room for 'first'.
   * The same name and password already being checked are not checked twice: a browser's parallel
   * requests with one Authorization header wait for one hash.
   */
  verify(name: string, password: string, priority: HashPriorityOf = 'first'): Promise<boolean> {
    const key = this.keyOf(name, password);
    const running = this.checking.get(key);
    if (running) return running;
    const check = this.check(name, password, key, priority).finally(() => this.checking.delete(key));
    this.checking.set(key, check);
    return check;
  }

  /** Whether this very name and password are being checked now (verify would not start another hash). */
  isChecking(name: string, password: string): boolean {
    return this.checking.has(this.keyOf(name, password));
  }

  private async check(name: string, password: string, key: string, priority: HashPriorityOf): Promise<boolean> {
    const user = this.stored.find((candidate) => candidate.name === name);
    if (!user) {
      await this.hasher.matches(await (this.decoy ??= this.hasher.hash(randomBytes(16).toString('hex'))), password, priority);
      return false;
    }
    const hash = user.hash;
    if (!(await this.hasher.matches(hash, password, priority))) return false;
    // The password may have changed while the hash was checked: only the current one is remembered.
    if (this.stored.find((candidate) => candidate.name === name)?.hash !== hash) return false;
    this.verified.delete(key);
    this.verified.set(key, { name, expires: Date.now() + VERIFIED_TTL_MS });
    if (this.verified.size > VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value as string);
    return true;
  }

  private find(name: string): StoredUser {
    const user = this.stored.find((candidate) => candidate.name === name);
    if (!user) throw new ApiError('not_found', `There is no sign-in user "${name}"; it may have been removed.`);
    return user;
  }

  private forget(name: string): void {
    for (const [key, entry] of this.verified) if (entry.name === name) this.verified.delete(key);
  }

  private keyOf(name: string, password: string): string {
    return createHmac('sha256', this.key).update(name).update('\0').update(password).digest('base64');
  }

  private async save(users: StoredUser[]): Promise<void> {
    await writeFileDurably(this.path, `${JSON.stringify({ version: 1, users }, null, 2)}\n`, { mode: 0o600 });
    this.stored = users;
  }
}
