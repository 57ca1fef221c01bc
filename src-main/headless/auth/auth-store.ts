// admin-auth.json as the running server holds it: the file's content plus the live session table,
// kept in step with the disk. Every change runs in one queue, under the file lock the set-password
// command takes too (auth-file-lock.ts): it re-reads the file if that command replaced it, then
// writes it back if anything changed.
// A directory watch re-reads it as soon as it is replaced, so sessions ended there end here at once.
import { watch, type FSWatcher } from 'node:fs';
import { AUTH_FILE, authFileIdentity, readAuthFile, sameIdentity, writeAuthFile, type AuthFileData, type FileIdentity } from './auth-file.js';
import { withAuthFileLock } from './auth-file-lock.js';
import { SessionTable, type SessionLimits } from './sessions.js';

export class AuthStore {
  #data: AuthFileData;
  #identity: FileIdentity | null;
  #queue: Promise<unknown> = Promise.resolve();
  #persistTimer: NodeJS.Timeout | null = null;
  #watcher: FSWatcher | null = null;
  readonly sessions: SessionTable;
  /** Called after every queued change or re-read, so open event streams can re-check their sign-in. */
  onChange: () => void = () => undefined;

  private constructor(
    private readonly dataDir: string,
    limits: SessionLimits,
    private readonly now: () => number,
    loaded: { data: AuthFileData; identity: FileIdentity | null },
  ) {
    this.#data = loaded.data;
    this.#identity = loaded.identity;
    this.sessions = new SessionTable(limits);
    this.sessions.replaceWith(loaded.data.sessions);
  }

  static async open(dataDir: string, limits: SessionLimits, now: () => number): Promise<AuthStore> {
    const store = new AuthStore(dataDir, limits, now, await readAuthFile(dataDir));
    store.#watch();
    return store;
  }

  /** The file's content as of the last read or change. Change it only inside `serially`. */
  get data(): AuthFileData {
    return this.#data;
  }

  /**
   * Runs `change` after every earlier one, on the file's latest content, then writes the file when
   * something changed, even when `change` throws (it may have spent a recovery code first).
   */
  serially<T>(change: () => Promise<T> | T): Promise<T> {
    // Under the file lock from re-read to write, so `gatehouse set-password` cannot write in between
    // and then be overwritten with what this process read before.
    const run = this.#queue.then(() =>
      withAuthFileLock(this.dataDir, async () => {
        await this.#reloadIfReplaced();
        const before = JSON.stringify(this.#data);
        try {
          return await change();
        } finally {
          try {
            await this.#write(before);
          } finally {
            this.onChange();
          }
        }
      }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Re-reads the file if it was replaced. */
  refresh(): Promise<void> {
    return this.serially(() => undefined);
  }

  /** Saves sessions' lastSeen soon (called when one is persistEveryMs behind; see SessionLimits). */
  persistSoon(): void {
    if (this.#persistTimer) return;
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = null;
      this.refresh().catch((error: unknown) => console.error('gatehouse: could not save sessions:', error));
    }, 1000);
    this.#persistTimer.unref();
  }

  /** Stops watching and writes a pending lastSeen. */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#persistTimer) {
      clearTimeout(this.#persistTimer);
      this.#persistTimer = null;
      await this.refresh().catch(() => undefined);
    }
    await this.#queue;
  }

  /** Writes when something changed; a lastSeen alone counts only once persistEveryMs behind. */
  async #write(before: string): Promise<void> {
    const changed = JSON.stringify(this.#data) !== before || this.sessions.needsPersisting() || !sameSessions(this.#data.sessions, this.sessions.idHashes());
    if (!changed) return;
    this.#data.sessions = this.sessions.toStored(this.now());
    this.#identity = await writeAuthFile(this.dataDir, this.#data);
  }

  async #reloadIfReplaced(): Promise<void> {
    const identity = await authFileIdentity(this.dataDir);
    if (sameIdentity(identity, this.#identity)) return;
    const loaded = await readAuthFile(this.dataDir);
    this.#data = loaded.data;
    this.#identity = loaded.identity;
    this.sessions.replaceWith(loaded.data.sessions);
  }

  #watch(): void {
    try {
      this.#watcher = watch(this.dataDir, { persistent: false }, (_event, name) => {
        if (name === AUTH_FILE) this.refresh().catch((error: unknown) => console.error('gatehouse: could not re-read the sign-in file:', error));
      });
      this.#watcher.on('error', () => this.#watcher?.close());
    } catch {
      // No watching on this file system: sign-in and every /auth/ request re-read the file anyway.
    }
  }
}

function sameSessions(stored: AuthFileData['sessions'], live: ReadonlySet<string>): boolean {
  return stored.length === live.size && stored.every((session) => live.has(session.idHash));
}
