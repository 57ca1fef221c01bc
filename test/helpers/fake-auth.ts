// An AuthClient (src-renderer/transport/auth.ts) that keeps Gatehouse's sign-in rules in memory, for
// the renderer's unit tests: one browser, a password, a real TOTP secret (otpauth) with recovery
// codes, a failure counter that turns into 429, and sessions that can be ended from "elsewhere".
import { qrCode } from '../../src-main/core/certs/qr.js';
import { Secret, TOTP } from 'otpauth';
import { MIN_PASSWORD_LENGTH, type AuthState, type SetPasswordInput, type SignInInput } from '../../shared/admin-auth.js';
import { ApiError } from '../../shared/api.js';
import type { AuthClient } from '../../src-renderer/transport/auth.js';

export class FakeAuth implements AuthClient {
  password: string | null;
  signedIn = false;
  totp: TOTP | null = null;
  pendingTotp: TOTP | null = null;
  recoveryCodes: string[] = [];
  token = 't'.repeat(43);
  failures = 0;
  /** Failed attempts allowed before 429. */
  failureLimit = 5;
  otherSessions = 0;
  calls: string[] = [];

  constructor(options: { password?: string | null; signedIn?: boolean } = {}) {
    this.password = options.password === undefined ? 'correct horse battery' : options.password;
    this.signedIn = options.signedIn ?? false;
  }

  #state(): AuthState {
    const now = Date.now();
    return {
      passwordSet: this.password !== null,
      signedIn: this.signedIn,
      via: this.signedIn ? 'session' : null,
      session: this.signedIn ? { createdAt: now, idleExpiresAt: now + 3_600_000, absoluteExpiresAt: now + 86_400_000 } : null,
      totpEnabled: this.signedIn ? this.totp !== null : null,
      recoveryCodesLeft: this.signedIn ? this.recoveryCodes.length : null,
      sessionCount: this.signedIn ? 1 + this.otherSessions : null,
    };
  }

  #needSession(): void {
    if (!this.signedIn) throw new ApiError('unauthorized', 'Sign in first.');
  }

  #checkPassword(password: string): void {
    if (this.failures >= this.failureLimit) throw new ApiError('rate_limited', 'Too many failed sign-ins from this device. Try again in 5 minutes.');
    if (password !== this.password) {
      this.failures += 1;
      throw new ApiError('unauthorized', 'That password is not right.');
    }
  }

  async state() {
    this.calls.push('state');
    return this.#state();
  }

  async signIn(input: SignInInput) {
    this.calls.push('signIn');
    if (this.password === null) throw new ApiError('unauthorized', 'No password is set yet.');
    this.#checkPassword(input.password);
    if (this.totp) {
      if (input.code === undefined) return { state: this.#state(), needsCode: true };
      const code = input.code.replace(/\s+/g, '').toLowerCase();
      const recovery = this.recoveryCodes.indexOf(code);
      if (recovery !== -1) this.recoveryCodes.splice(recovery, 1);
      else if (this.totp.validate({ token: code, window: 1 }) === null) {
        this.failures += 1;
        throw new ApiError('unauthorized', 'That code is not right. Codes change every 30 seconds.');
      }
    }
    this.failures = 0;
    this.signedIn = true;
    return { state: this.#state(), needsCode: false };
  }

  async signOut() {
    this.calls.push('signOut');
    this.signedIn = false;
  }

  async signOutEverywhere() {
    this.calls.push('signOutEverywhere');
    this.#needSession();
    this.signedIn = false;
    this.otherSessions = 0;
  }

  async setPassword(input: SetPasswordInput) {
    this.calls.push('setPassword');
    this.#needSession();
    if (this.password !== null) this.#checkPassword(input.currentPassword ?? '');
    if (input.newPassword.length < MIN_PASSWORD_LENGTH) {
      throw new ApiError('invalid_input', 'Invalid input', { issues: [{ path: 'newPassword', message: `use at least ${MIN_PASSWORD_LENGTH} characters` }] });
    }
    this.password = input.newPassword;
  }

  async beginTotp(input: { password: string }) {
    this.calls.push('beginTotp');
    this.#needSession();
    this.#checkPassword(input.password);
    this.pendingTotp = new TOTP({ issuer: 'Gatehouse', label: 'admin', secret: new Secret({ size: 20 }) });
    const uri = this.pendingTotp.toString();
    return { secret: this.pendingTotp.secret.base32, uri, qr: qrCode(uri) };
  }

  async confirmTotp(input: { code: string }) {
    this.calls.push('confirmTotp');
    this.#needSession();
    if (!this.pendingTotp || this.pendingTotp.validate({ token: input.code, window: 1 }) === null) {
      throw new ApiError('unauthorized', 'That code is not right. Check the time on your phone, then try the next code.');
    }
    this.totp = this.pendingTotp;
    this.pendingTotp = null;
    this.recoveryCodes = Array.from({ length: 10 }, (_, i) => `ab${i}c-defg-hij${i}`);
    return { state: this.#state(), recoveryCodes: [...this.recoveryCodes] };
  }

  async disableTotp(input: { password: string }) {
    this.calls.push('disableTotp');
    this.#needSession();
    this.#checkPassword(input.password);
    this.totp = null;
    this.recoveryCodes = [];
  }

  async rotateToken(input: { password: string }) {
    this.calls.push('rotateToken');
    this.#needSession();
    this.#checkPassword(input.password);
    this.token = this.token === 'u'.repeat(43) ? 'v'.repeat(43) : 'u'.repeat(43);
    return { token: this.token };
  }
}
