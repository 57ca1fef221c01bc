// Whether this browser is signed in to `gatehouse serve`, and so what the web UI shows: the sign-in
// screen, the choose-a-password screen (after the one-time link, before anything else), or the app.
// Only the HTTP transport has one; the Electron window is the local user's own app and has none.
import type { AuthState } from '../../shared/admin-auth.js';
import type { ApiError } from '../../shared/api.js';
import { asApiError } from '../app/errors.js';
import type { AuthClient } from '../transport/auth.js';

export type SessionView = 'checking' | 'unreachable' | 'sign-in' | 'choose-password' | 'signed-in';

/** Why the sign-in screen shows, when it is not the first visit: said on the screen. */
export type SignedOutReason = 'ended' | 'signed-out' | null;

function signedOut(state: AuthState | null): AuthState {
  return {
    passwordSet: state?.passwordSet ?? true,
    signedIn: false,
    via: null,
    session: null,
    totpEnabled: null,
    recoveryCodesLeft: null,
    sessionCount: null,
  };
}

export class Session {
  /** What GET /auth/state said last; null until it answered once. */
  state = $state.raw<AuthState | null>(null);
  /** Why the last check failed (Gatehouse unreachable); null once one succeeds. */
  problem = $state.raw<ApiError | null>(null);
  reason = $state<SignedOutReason>(null);

  view = $derived.by((): SessionView => {
    const state = this.state;
    if (!state) return this.problem ? 'unreachable' : 'checking';
    if (!state.signedIn) return 'sign-in';
    // Signed in through the one-time link with no password yet: one is chosen before anything else.
    if (!state.passwordSet && state.via === 'session') return 'choose-password';
    return 'signed-in';
  });

  readonly auth: AuthClient;
  readonly #onSignedIn: () => void;
  readonly #onSignedOut: () => void;
  #wasSignedIn = false;

  /**
   * @param onSignedIn called each time the app becomes usable: after the first check, and after each sign-in
   * @param onSignedOut called each time it stops being usable (signed out, session ended)
   */
  constructor(auth: AuthClient, onSignedIn: () => void, onSignedOut: () => void = () => {}) {
    this.auth = auth;
    this.#onSignedIn = onSignedIn;
    this.#onSignedOut = onSignedOut;
  }

  /** Asks Gatehouse who this browser is; the view follows. */
  async check(): Promise<void> {
    try {
      this.#apply(await this.auth.state());
      this.problem = null;
    } catch (error) {
      this.problem = asApiError(error);
    }
  }

  /** The sign-in form (or the choose-a-password form) succeeded with this state. */
  signedIn(state: AuthState): void {
    this.reason = null;
    this.#apply(state);
  }

  /**
   * An API call answered 401: the session expired or was ended elsewhere. The sign-in screen takes
   * over at once, the page behind it (its address) stays for after signing in again.
   */
  lost(): void {
    if (!this.state?.signedIn) return;
    this.reason = 'ended';
    this.#apply(signedOut(this.state));
    void this.check();
  }

  async signOut(): Promise<void> {
    await this.auth.signOut();
    this.reason = 'signed-out';
    this.#apply(signedOut(this.state));
  }

  /** Ends every session, this one included. */
  async signOutEverywhere(): Promise<void> {
    await this.auth.signOutEverywhere();
    this.reason = 'signed-out';
    this.#apply(signedOut(this.state));
  }

  #apply(state: AuthState): void {
    this.state = state;
    const usable = this.view === 'signed-in';
    if (usable && !this.#wasSignedIn) this.#onSignedIn();
    if (!usable && this.#wasSignedIn) this.#onSignedOut();
    this.#wasSignedIn = usable;
  }
}
