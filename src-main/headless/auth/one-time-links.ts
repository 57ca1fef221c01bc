// The one-time sign-in link `gatehouse serve` prints while no password is set. The code is 32
// random bytes, kept only as a hash and only in memory: it works once, for `ttlMs`, and a restart
// makes a new one (the old one dies with the process).
import { randomBytes } from 'node:crypto';
import { sha256 } from './auth-file.js';

/** Default life of a one-time link: 30 minutes. */
export const DEFAULT_ONCE_LINK_TTL_MS = 30 * 60_000;

export class OneTimeLinks {
  readonly #expiries = new Map<string, number>();

  constructor(readonly ttlMs: number = DEFAULT_ONCE_LINK_TTL_MS) {}

  /** A new code; any earlier one stops working, so only the last printed link is live. */
  create(now: number): string {
    const code = randomBytes(32).toString('base64url');
    this.#expiries.clear();
    this.#expiries.set(sha256(code), now + this.ttlMs);
    return code;
  }

  /** Whether the code is live, without spending it. */
  isLive(code: string, now: number): boolean {
    const expires = this.#expiries.get(sha256(code));
    return expires !== undefined && now < expires;
  }

  /** True once per live code; the code is spent either way. */
  consume(code: string, now: number): boolean {
    const key = sha256(code);
    const expires = this.#expiries.get(key);
    this.#expiries.delete(key);
    return expires !== undefined && now < expires;
  }

  revokeAll(): void {
    this.#expiries.clear();
  }
}
