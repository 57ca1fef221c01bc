// Open sign-in sessions, held in a Map keyed by the SHA-256 of the session id, so checking a cookie
// on an API call is one hash and one lookup. The file keeps the same hashes, never an id.
import { randomBytes } from 'node:crypto';
import { sha256, type StoredSession } from './auth-file.js';

export interface SessionLimits {
  /** A session not used for this long ends. Default: 12 hours. */
  idleMs: number;
  /** A session ends this long after sign-in, used or not. Default: 7 days. */
  absoluteMs: number;
  /**
   * lastSeen reaches the file at most this often per session, so API calls do not write to disk.
   * A restart may therefore forget up to this much use. Default: 5 minutes.
   */
  persistEveryMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 12 * 3600_000, absoluteMs: 7 * 24 * 3600_000, persistEveryMs: 5 * 60_000 };

export interface Session extends StoredSession {
  /** The lastSeen the file holds. */
  persistedLastSeen: number;
}

export class SessionTable {
  readonly #sessions = new Map<string, Session>();

  constructor(readonly limits: SessionLimits) {}

  get size(): number {
    return this.#sessions.size;
  }

  /** A new session; the returned id goes into the cookie and is never kept. */
  create(now: number): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const session: Session = { idHash: sha256(id), createdAt: now, lastSeen: now, persistedLastSeen: now };
    this.#sessions.set(session.idHash, session);
    return { id, session };
  }

  /** The live session for a cookie value, with lastSeen moved to now; an expired one is dropped. */
  use(id: string, now: number): Session | null {
    const session = this.#sessions.get(sha256(id));
    if (!session) return null;
    if (!this.#alive(session, now)) {
      this.#sessions.delete(session.idHash);
      return null;
    }
    session.lastSeen = now;
    return session;
  }

  /** Whether the session is open and unexpired, without counting this as use (an event stream's check). */
  isLive(idHash: string, now: number): boolean {
    const session = this.#sessions.get(idHash);
    return session !== undefined && this.#alive(session, now);
  }

  /** Whether some session's lastSeen is older in the file than persistEveryMs allows. */
  needsPersisting(): boolean {
    for (const session of this.#sessions.values()) if (session.lastSeen - session.persistedLastSeen >= this.limits.persistEveryMs) return true;
    return false;
  }

  idHashes(): ReadonlySet<string> {
    return new Set(this.#sessions.keys());
  }

  end(idHash: string): boolean {
    return this.#sessions.delete(idHash);
  }

  /** Ends every session but `keep` (an idHash), or all of them. */
  endAllBut(keep: string | null): void {
    for (const idHash of [...this.#sessions.keys()]) if (idHash !== keep) this.#sessions.delete(idHash);
  }

  idleExpiresAt(session: Session): number {
    return Math.min(session.lastSeen + this.limits.idleMs, this.absoluteExpiresAt(session));
  }

  absoluteExpiresAt(session: Session): number {
    return session.createdAt + this.limits.absoluteMs;
  }

  /** Drops expired sessions and returns the rest as the file stores them. */
  toStored(now: number): StoredSession[] {
    const stored: StoredSession[] = [];
    for (const session of [...this.#sessions.values()]) {
      if (!this.#alive(session, now)) {
        this.#sessions.delete(session.idHash);
        continue;
      }
      session.persistedLastSeen = session.lastSeen;
      stored.push({ idHash: session.idHash, createdAt: session.createdAt, lastSeen: session.lastSeen });
    }
    return stored;
  }

  /** Replaces the table with the file's sessions, keeping the newer lastSeen of ones held in memory too. */
  replaceWith(stored: readonly StoredSession[]): void {
    const previous = new Map(this.#sessions);
    this.#sessions.clear();
    for (const entry of stored) {
      const lastSeen = Math.max(entry.lastSeen, previous.get(entry.idHash)?.lastSeen ?? 0);
      this.#sessions.set(entry.idHash, { ...entry, lastSeen, persistedLastSeen: entry.lastSeen });
    }
  }

  #alive(session: Session, now: number): boolean {
    return now < this.idleExpiresAt(session);
  }
}
