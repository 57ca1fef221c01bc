// Sign-in for the headless admin: the password, sessions, the second factor, the one-time link and
// the bearer token, behind one object the HTTP layer (auth-routes.ts) calls. Session checks are
// in-memory lookups; every change goes through AuthStore's queue (auth-store.ts), which keeps
// admin-auth.json and the running server in step.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { qrCode } from '../../core/certs/qr.js';
import type { AuthState, SetPasswordInput, SignInResult, TotpConfirmed, TotpEnrolment } from '../../../shared/admin-auth.js';
import { ApiError } from '../../../shared/api.js';
import { writeFileDurably } from '../../core/settings/durable-file.js';
import { bearerMatches, replaceAdminToken } from '../admin-token.js';
import { AuthStore } from './auth-store.js';
import { sha256 } from './auth-file.js';
import { DEFAULT_FAILURE_LIMITS, FailureLimiter, type FailureLimits } from './failure-limiter.js';
import { OneTimeLinks } from './one-time-links.js';
import { hashPassword, passwordMatches } from './password-hash.js';
import { newRecoveryCodes, newTotpSecret, recoveryCodeHash, totpStep } from './second-factor.js';
import { DEFAULT_SESSION_LIMITS, type Session, type SessionLimits } from './sessions.js';

export interface AdminAuthOptions {
  dataDir: string;
  /** The bearer token (admin-token.ts); held here so rotation takes effect at once. */
  token: string;
  sessionLimits?: Partial<SessionLimits>;
  failureLimits?: Partial<FailureLimits>;
  /** Life of the one-time link. Default: 30 minutes. */
  onceLinkTtlMs?: number;
  /** The clock, in epoch ms. Default: Date.now. */
  now?: () => number;
}

/** Who sent a request: a session, the bearer token, or nobody. */
export type Caller = { via: 'session'; session: Session } | { via: 'token' } | { via: null };

/** Where serve puts the one-time link when its output is not a terminal (a service's journal keeps everything). */
export const ONCE_LINK_FILE = 'once-link';

const NOT_SIGNED_IN = 'Sign in first: with the admin password, or the one-time link "gatehouse serve" printed.';
const NO_PASSWORD_YET =
  'No admin password is set yet. Open the one-time link "gatehouse serve" printed, or run "gatehouse set-password" on the server.';
const WRONG_CODE = 'That code is not right, or it was used already. Enter the code your authenticator app shows now, or an unused recovery code.';

export class AdminAuth {
  #token: string;
  readonly #store: AuthStore;
  readonly #limiter: FailureLimiter;
  readonly #links: OneTimeLinks;
  /** TOTP secrets begun but not confirmed yet, per caller (session idHash, or "token"). */
  readonly #enrolments = new Map<string, string>();
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  #onceLinkFile: { path: string; timer: NodeJS.Timeout } | null = null;

  private constructor(
    private readonly options: AdminAuthOptions,
    store: AuthStore,
    now: () => number,
  ) {
    this.#token = options.token;
    this.#store = store;
    this.#now = now;
    this.#limiter = new FailureLimiter({ ...DEFAULT_FAILURE_LIMITS, ...options.failureLimits });
    this.#links = new OneTimeLinks(options.onceLinkTtlMs);
    store.onChange = () => this.#changed();
  }

  static async open(options: AdminAuthOptions): Promise<AdminAuth> {
    const now = options.now ?? Date.now;
    const store = await AuthStore.open(options.dataDir, { ...DEFAULT_SESSION_LIMITS, ...options.sessionLimits }, now);
    // A link left by a process that died is dead too (links live only in memory).
    await rm(join(options.dataDir, ONCE_LINK_FILE), { force: true });
    return new AdminAuth(options, store, now);
  }

  get token(): string {
    return this.#token;
  }

  get passwordSet(): boolean {
    return this.#store.data.password !== null;
  }

  /** O(1): one SHA-256 and one Map lookup per cookie (at most 4), a constant-time compare for a bearer. */
  identify(sessionIds: readonly string[], authorization: string | undefined): Caller {
    for (const sessionId of sessionIds) {
      const session = this.#store.sessions.use(sessionId, this.#now());
      if (session) {
        if (session.lastSeen - session.persistedLastSeen >= this.#store.sessions.limits.persistEveryMs) this.#store.persistSoon();
        return { via: 'session', session };
      }
    }
    if (authorization && bearerMatches(this.#token, authorization)) return { via: 'token' };
    return { via: null };
  }

  /**
   * Whether a request with these credentials would still be let in, without counting as use: an
   * event stream asks this on every event and ping, and when `onChange` fires.
   */
  stillValid(sessionIds: readonly string[], authorization: string | undefined): boolean {
    if (sessionIds.some((id) => this.#store.sessions.isLive(sha256(id), this.#now()))) return true;
    return authorization !== undefined && bearerMatches(this.#token, authorization);
  }

  /** `listener` runs after anything that may end a session or a token (sign-out, password, rotation, a file re-read). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  state(caller: Caller): AuthState {
    const passwordSet = this.passwordSet;
    if (caller.via === null) {
      return { passwordSet, signedIn: false, via: null, session: null, totpEnabled: null, recoveryCodesLeft: null, sessionCount: null };
    }
    const session =
      caller.via === 'session'
        ? {
            createdAt: caller.session.createdAt,
            idleExpiresAt: this.#store.sessions.idleExpiresAt(caller.session),
            absoluteExpiresAt: this.#store.sessions.absoluteExpiresAt(caller.session),
          }
        : null;
    const totp = this.#store.data.totp;
    return {
      passwordSet,
      signedIn: true,
      via: caller.via,
      session,
      totpEnabled: totp !== null,
      recoveryCodesLeft: totp?.recoveryCodeHashes.length ?? 0,
      sessionCount: this.#store.sessions.size,
    };
  }

  /** How long a new session's cookie should live. */
  cookieLifeMs(session: Session): number {
    return this.#store.sessions.absoluteExpiresAt(session) - this.#now();
  }

  /** Re-reads the file when another process replaced it (a password set from the command line). */
  refresh(): Promise<void> {
    return this.#store.refresh();
  }

  async signIn(address: string, password: string, code: string | undefined): Promise<{ result: SignInResult; id: string | null; session: Session | null }> {
    await this.refresh();
    const stored = this.#store.data.password;
    if (!stored) throw new ApiError('unauthorized', NO_PASSWORD_YET);
    this.#limiter.begin(address, this.#now());
    if (!(await passwordMatches(stored.hash, password))) throw new ApiError('unauthorized', 'That password is not right.');
    if (this.#store.data.totp && code === undefined) {
      this.#limiter.forgive(address);
      return { result: { state: this.state({ via: null }), needsCode: true }, id: null, session: null };
    }
    return this.#store.serially(async () => {
      if (this.#store.data.totp && !(await this.#acceptCode(code!))) throw new ApiError('unauthorized', WRONG_CODE);
      this.#limiter.forgive(address);
      const { id, session } = this.#store.sessions.create(this.#now());
      return { result: { state: this.state({ via: 'session', session }), needsCode: false }, id, session };
    });
  }

  /** Ends the caller's own session (nothing to do for a bearer or a signed-out caller). */
  signOut(caller: Caller): Promise<void> {
    if (caller.via !== 'session') return Promise.resolve();
    return this.#store.serially(async () => {
      this.#store.sessions.end(caller.session.idHash);
      this.#enrolments.delete(caller.session.idHash);
    });
  }

  signOutEverywhere(caller: Caller): Promise<AuthState> {
    this.#requireSignedIn(caller);
    return this.#store.serially(async () => {
      this.#store.sessions.endAllBut(null);
      this.#enrolments.clear();
      return this.state({ via: null });
    });
  }

  /**
   * Sets the password. The first one needs a signed-in caller (one-time link session or bearer);
   * a change needs the current password too. Every other session ends.
   */
  async setPassword(address: string, caller: Caller, input: SetPasswordInput & { newPassword: string }): Promise<AuthState> {
    this.#requireSignedIn(caller);
    await this.refresh();
    const replaced = this.#store.data.password?.hash ?? null;
    if (this.#store.data.password) {
      if (input.currentPassword === undefined) {
        throw new ApiError('invalid_input', 'currentPassword: enter your current password', { issues: [{ path: 'currentPassword', message: 'enter your current password' }] });
      }
      await this.#confirmPassword(address, input.currentPassword, 'The current password is not right.');
    }
    const hash = await hashPassword(input.newPassword);
    return this.#store.serially(async () => {
      // Two first passwords at once, or a change from the command line meanwhile: the later one
      // must not silently replace a password it never checked.
      if ((this.#store.data.password?.hash ?? null) !== replaced) throw new ApiError('conflict', 'The password was changed meanwhile; sign in with the new one and try again.');
      this.#store.data.password = { hash, changedAt: this.#now() };
      const keep = caller.via === 'session' ? caller.session.idHash : null;
      this.#store.sessions.endAllBut(keep);
      this.#links.revokeAll();
      return this.state(caller);
    });
  }

  /** Needs the password: else a stolen session or the bearer token could enrol its own authenticator. */
  async beginTotp(address: string, caller: Caller, password: string): Promise<TotpEnrolment> {
    this.#requireSignedIn(caller);
    await this.refresh();
    await this.#confirmPassword(address, password, 'That password is not right.');
    if (this.#store.data.totp) throw new ApiError('conflict', 'The second factor is on already. Turn it off first to enrol another authenticator.');
    const enrolment = await newTotpSecret();
    this.#enrolments.set(enrolmentKey(caller), enrolment.secret);
    return { ...enrolment, qr: qrCode(enrolment.uri) };
  }

  confirmTotp(address: string, caller: Caller, code: string): Promise<TotpConfirmed> {
    this.#requireSignedIn(caller);
    return this.#store.serially(async () => {
      const secret = this.#enrolments.get(enrolmentKey(caller));
      if (!secret) throw new ApiError('conflict', 'Start again: no authenticator is being enrolled from this sign-in (POST /auth/totp/begin first).');
      if (this.#store.data.totp) throw new ApiError('conflict', 'The second factor is on already.');
      this.#limiter.begin(address, this.#now());
      const step = await totpStep(secret, code, this.#now());
      if (step === null) throw new ApiError('unauthorized', 'That code is not right. Check the phone\'s clock, and enter the code the app shows now.');
      this.#limiter.forgive(address);
      const recoveryCodes = newRecoveryCodes();
      this.#store.data.totp = { secret, recoveryCodeHashes: recoveryCodes.map(recoveryCodeHash), lastStep: step };
      this.#enrolments.delete(enrolmentKey(caller));
      return { state: this.state(caller), recoveryCodes };
    });
  }

  async disableTotp(address: string, caller: Caller, password: string): Promise<AuthState> {
    this.#requireSignedIn(caller);
    await this.refresh();
    await this.#confirmPassword(address, password, 'That password is not right.');
    return this.#store.serially(async () => {
      this.#store.data.totp = null;
      return this.state(caller);
    });
  }

  /** A new bearer token, written to DATA_DIR/admin-token; the old one is refused from now on. */
  async rotateToken(address: string, caller: Caller, password: string): Promise<string> {
    this.#requireSignedIn(caller);
    await this.refresh();
    await this.#confirmPassword(address, password, 'That password is not right.');
    this.#token = await replaceAdminToken(this.options.dataDir);
    this.#changed();
    return this.#token;
  }

  /** A one-time sign-in code while no password is set; null once one is. */
  createOnceLink(): string | null {
    return this.passwordSet ? null : this.#links.create(this.#now());
  }

  /** Whether a one-time code would sign in now (its page shows the button), without spending it. */
  onceLinkLive(code: string): boolean {
    return !this.passwordSet && this.#links.isLive(code, this.#now());
  }

  /** A session for a live one-time code, or null (used, expired, unknown, or a password exists now). */
  async useOnceLink(address: string, code: string): Promise<{ id: string; session: Session } | null> {
    await this.refresh();
    this.#limiter.begin(address, this.#now());
    if (!this.#links.consume(code, this.#now()) || this.passwordSet) return null;
    this.#dropOnceLinkFile();
    this.#limiter.forgive(address);
    return this.#store.serially(async () => this.#store.sessions.create(this.#now()));
  }

  /**
   * Writes a one-time link to DATA_DIR/once-link (mode 0600) for an owner who reads it on the
   * server; the file goes once the link is spent or expired, a password is set, or serve stops.
   */
  async writeOnceLinkFile(url: string): Promise<string> {
    this.#dropOnceLinkFile();
    const path = join(this.options.dataDir, ONCE_LINK_FILE);
    await writeFileDurably(path, `${url}\n`, { mode: 0o600 });
    const timer = setTimeout(() => this.#dropOnceLinkFile(), this.#links.ttlMs);
    timer.unref();
    this.#onceLinkFile = { path, timer };
    return path;
  }

  /** Stops watching the file and writes any lastSeen not on disk yet. */
  close(): Promise<void> {
    this.#dropOnceLinkFile();
    return this.#store.close();
  }

  #dropOnceLinkFile(): void {
    if (!this.#onceLinkFile) return;
    clearTimeout(this.#onceLinkFile.timer);
    rm(this.#onceLinkFile.path, { force: true }).catch((error: unknown) => console.error('gatehouse: could not remove the one-time link file:', error));
    this.#onceLinkFile = null;
  }

  #changed(): void {
    if (this.passwordSet) this.#dropOnceLinkFile();
    for (const listener of this.#listeners) listener();
  }

  #requireSignedIn(caller: Caller): void {
    if (caller.via === null) throw new ApiError('unauthorized', NOT_SIGNED_IN);
  }

  async #confirmPassword(address: string, password: string, wrong: string): Promise<void> {
    const stored = this.#store.data.password;
    if (!stored) throw new ApiError('conflict', 'No admin password is set yet; set one first (POST /auth/password or "gatehouse set-password").');
    this.#limiter.begin(address, this.#now());
    if (!(await passwordMatches(stored.hash, password))) throw new ApiError('unauthorized', wrong);
    this.#limiter.forgive(address);
  }

  /**
   * A TOTP code from a step after the last one used, or an unused recovery code (spent here). Runs
   * inside the store's queue, so the await cannot let another code in between the check and the spend.
   */
  async #acceptCode(code: string): Promise<boolean> {
    const totp = this.#store.data.totp!;
    if (/^\d{6}$/.test(code)) {
      const step = await totpStep(totp.secret, code, this.#now());
      if (step === null || step <= totp.lastStep) return false;
      totp.lastStep = step;
      return true;
    }
    const index = totp.recoveryCodeHashes.indexOf(recoveryCodeHash(code));
    if (index === -1) return false;
    totp.recoveryCodeHashes.splice(index, 1);
    return true;
  }
}

function enrolmentKey(caller: Caller): string {
  return caller.via === 'session' ? caller.session.idHash : 'token';
}

