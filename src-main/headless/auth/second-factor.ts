// The optional second factor: TOTP (RFC 6238, 6 digits, 30 s, SHA-1, which every authenticator app
// reads) via otpauth, plus ten single-use recovery codes. Recovery codes are kept as SHA-256: they
// are ~59 random bits, and whoever could read the file could read the TOTP secret next to them anyway.
import { randomInt } from 'node:crypto';
import { sha256 } from './auth-file.js';

const PERIOD_S = 30;
/** Codes from one step before or after now are accepted too: phone clocks drift. */
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;
/** No 0/o, 1/l/i: a code copied from paper should not be misread. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

// Loaded at the first enrolment or code, not at start: most admins never turn the second factor on.
let otpauth: Promise<typeof import('otpauth')> | null = null;
const loadOtpauth = () => (otpauth ??= import('otpauth'));

async function totpFor(secret: string) {
  const { Secret, TOTP } = await loadOtpauth();
  return new TOTP({ issuer: 'Gatehouse', label: 'admin', algorithm: 'SHA1', digits: 6, period: PERIOD_S, secret: Secret.fromBase32(secret) });
}

export async function newTotpSecret(): Promise<{ secret: string; uri: string }> {
  const { Secret } = await loadOtpauth();
  const secret = new Secret({ size: 20 }).base32;
  return { secret, uri: (await totpFor(secret)).toString() };
}

/** The time step a valid code belongs to, or null. The caller refuses a step not after the last one used. */
export async function totpStep(secret: string, code: string, now: number): Promise<number | null> {
  const delta = (await totpFor(secret)).validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? null : Math.floor(now / 1000 / PERIOD_S) + delta;
}

export function newRecoveryCodes(): string[] {
  const group = () => Array.from({ length: 4 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => `${group()}-${group()}-${group()}`);
}

export const recoveryCodeHash = (code: string) => sha256(code.toLowerCase(), 'hex');
