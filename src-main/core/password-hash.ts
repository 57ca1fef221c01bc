// Shared by the admin sign-in (headless/auth) and the sign-in users of routes (core/access).
// The admin password is kept only as an argon2id hash (@node-rs/argon2), with OWASP's recommended
// parameters (19 MiB of memory, 2 passes, 1 lane). Measured on the 2-core build machine: 13 ms per
// verify when idle, under 100 ms with every core contended. RFC 9106's 64 MiB × 3 passes took 65–90 ms
// idle but over 450 ms under the same contention, past the 300 ms a sign-in may take; the per-address
// failure limit, not the hash's cost, is what stops online guessing. A stored hash names its own
// parameters, so these can be raised later without breaking existing passwords.
import { ApiError } from '../../shared/api.js';

// Loaded at the first hash, not at start: the native library adds ~14 MiB to an idle serve's
// memory, and most of its life nobody is signing in.
let argon2: Promise<typeof import('@node-rs/argon2')> | null = null;
const loadArgon2 = () => (argon2 ??= import('@node-rs/argon2'));

/** `algorithm: 2` is Algorithm.Argon2id (a const enum, which this build cannot import by name). */
export const PASSWORD_HASH_OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** At most this many hashes run at once (one per core): a burst must queue, not exhaust memory and CPU. */
const MAX_CONCURRENT = 2;
/**
 * At most this many wait; more are refused at once (429), so a flood of guesses cannot put the
 * owner's sign-in behind minutes of hashing. About a second of hashing on a busy 2-core machine.
 */
export const MAX_WAITING = 16;
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) {
    if (waiting.length >= MAX_WAITING) throw new ApiError('rate_limited', 'Gatehouse is busy checking other passwords. Try again in a few seconds.');
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(async () => (await loadArgon2()).hash(password, PASSWORD_HASH_OPTIONS));
}

/** Whether `password` matches `encoded`; a damaged hash counts as no match (the owner resets it with set-password). */
export function passwordMatches(encoded: string, password: string): Promise<boolean> {
  return limited(async () => (await loadArgon2()).verify(encoded, password).catch(() => false));
}
