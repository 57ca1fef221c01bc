// Sign-in for the web admin that `gatehouse serve` offers: the contract between the headless admin
// server (src-main/headless/auth/) and the renderer's HTTP transport. The Electron window is the
// local user's own app and needs none of this, so it is not part of the Api in api.ts.
//
// How it fits together:
// - A person signs in with the admin password (and a TOTP code when a second factor is on); the
//   answer sets a session cookie (HttpOnly, SameSite=Strict, `__Host-` and Secure over HTTPS). Every
//   /api/ request is then accepted with that cookie, or with the bearer token (scripts, curl).
// - The first password is set either with `gatehouse set-password` on the server, or through the
//   one-time link `gatehouse serve` gives while no password is set: GET /auth/once/CODE shows a page
//   whose button POSTs to the same path, which signs that browser in once (303 to /) and spends the
//   code; the UI then asks for a password.
// - Failures are ApiErrorBody like every other admin answer: 401 `unauthorized` (wrong password or
//   code), 429 `rate_limited` (too many failures from this client; the message says when to retry),
//   400 `invalid_input` (a field's problem, in `issues`).
// Imports nothing but zod: this file is bundled into the renderer.
import { z } from 'zod';
import type { QrCode } from './status.js';

/** Shortest admin password accepted. */
export const MIN_PASSWORD_LENGTH = 10;
/** Longest admin password accepted (argon2 hashes any length; this bounds the work per attempt). */
export const MAX_PASSWORD_LENGTH = 256;

export const PasswordSchema = z
  .string({ error: 'enter a password' })
  .min(MIN_PASSWORD_LENGTH, `use at least ${MIN_PASSWORD_LENGTH} characters; a phrase of a few words is easy to remember`)
  .max(MAX_PASSWORD_LENGTH, `use at most ${MAX_PASSWORD_LENGTH} characters`);

/** A password typed at sign-in: only its size is checked (an old, shorter one must still be refused with "wrong password"). */
const TypedPasswordSchema = z.string({ error: 'enter your password' }).min(1, 'enter your password').max(MAX_PASSWORD_LENGTH, 'that is longer than any Gatehouse password');

/** A 6-digit TOTP code from an authenticator app, or a recovery code (xxxx-xxxx-xxxx). Spaces are ignored. */
export const SecondFactorCodeSchema = z
  .string()
  .transform((code) => code.replace(/\s+/g, '').toLowerCase())
  .pipe(z.string().regex(/^(?:\d{6}|[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})$/, 'enter the 6-digit code from your authenticator app, or one of your recovery codes'));

export const SignInInputSchema = z.object({ password: TypedPasswordSchema, code: SecondFactorCodeSchema.optional() }).strict();
export type SignInInput = z.input<typeof SignInInputSchema>;

/** `currentPassword` is required when a password is set already; the first one needs a signed-in session (one-time link) instead. */
export const SetPasswordInputSchema = z.object({ currentPassword: TypedPasswordSchema.optional(), newPassword: PasswordSchema }).strict();
export type SetPasswordInput = z.input<typeof SetPasswordInputSchema>;

export const ConfirmTotpInputSchema = z
  .object({ code: z.string().transform((code) => code.replace(/\s+/g, '')).pipe(z.string().regex(/^\d{6}$/, 'enter the 6-digit code your authenticator app shows now')) })
  .strict();
export const PasswordConfirmationSchema = z.object({ password: TypedPasswordSchema }).strict();

/** The caller's own session, when it signed in with one. Times are epoch milliseconds. */
export interface AuthSession {
  createdAt: number;
  /** The session ends this long after it was last used… */
  idleExpiresAt: number;
  /** …and at this time whatever happens. */
  absoluteExpiresAt: number;
}

/** What GET /auth/state answers; a signed-out caller learns only `passwordSet` and `signedIn`. */
export interface AuthState {
  /** An admin password exists. While false, only the one-time link or `gatehouse set-password` can sign anyone in. */
  passwordSet: boolean;
  signedIn: boolean;
  /** How this request was let in: a session cookie, the bearer token, or not at all. */
  via: 'session' | 'token' | null;
  /** The fields below are null unless signed in. */
  session: AuthSession | null;
  totpEnabled: boolean | null;
  /** Unused recovery codes left (0 when TOTP is off). */
  recoveryCodesLeft: number | null;
  /** Sessions open now, this one included. */
  sessionCount: number | null;
}

/** POST /auth/sign-in: `needsCode` when the password was right but a TOTP or recovery code is required too (nothing was signed in yet). */
export interface SignInResult {
  state: AuthState;
  needsCode: boolean;
}

/** POST /auth/totp/begin (with the password): a new secret to enrol; nothing changes until it is confirmed with a code. */
export interface TotpEnrolment {
  /** Base32, for typing into an app by hand. */
  secret: string;
  /** otpauth://totp/Gatehouse:admin?secret=…&issuer=Gatehouse, what the QR code encodes. */
  uri: string;
  /** `uri` as a QR code, encoded by Gatehouse like the CA onboarding code, so the page needs no encoder of its own. */
  qr: QrCode;
}

/** POST /auth/totp/confirm: the second factor is on; each recovery code works once. Shown once. */
export interface TotpConfirmed {
  state: AuthState;
  recoveryCodes: string[];
}

/** POST /auth/token/rotate: the new bearer token, shown once; the old one stops working at once. */
export interface RotatedToken {
  token: string;
}

/** Every sign-in endpoint. None of them needs a session except where `signedIn` says so. */
export const authEndpoints = {
  state: { method: 'GET', path: '/auth/state', signedIn: false },
  signIn: { method: 'POST', path: '/auth/sign-in', signedIn: false },
  signOut: { method: 'POST', path: '/auth/sign-out', signedIn: false },
  /** Ends every session, this one included. */
  signOutEverywhere: { method: 'POST', path: '/auth/sign-out-everywhere', signedIn: true },
  setPassword: { method: 'POST', path: '/auth/password', signedIn: true },
  /** Needs the password, so a stolen session or the bearer token cannot enrol its own authenticator. */
  beginTotp: { method: 'POST', path: '/auth/totp/begin', signedIn: true },
  confirmTotp: { method: 'POST', path: '/auth/totp/confirm', signedIn: true },
  /** Needs the password; turns the second factor off and forgets the recovery codes. */
  disableTotp: { method: 'POST', path: '/auth/totp/disable', signedIn: true },
  /** Needs the password; the new token is in the answer, once. */
  rotateToken: { method: 'POST', path: '/auth/token/rotate', signedIn: true },
} as const satisfies Record<string, { method: 'GET' | 'POST'; path: string; signedIn: boolean }>;

/** GET /auth/once/:code — the one-time sign-in link `gatehouse serve` prints while no password is set. */
export const ONE_TIME_LINK_PREFIX = '/auth/once/';
