// The admin password is kept only as an argon2id hash (@node-rs/argon2). The parameters are RFC
// 9106's second recommended set with one lane: 64 MiB of memory and 3 passes cost about 90 ms per
// verify on a 2-core home server, well under the 300 ms a sign-in may take, and far more per guess
// than OWASP's minimum (19 MiB, 2 passes) for someone holding a copy of the file.
import { hash, verify } from '@node-rs/argon2';

/** `algorithm: 2` is Algorithm.Argon2id (a const enum, which this build cannot import by name). */
export const PASSWORD_HASH_OPTIONS = { algorithm: 2, memoryCost: 65536, timeCost: 3, parallelism: 1 } as const;

/** At most this many hashes run at once: each takes 64 MiB, and a burst must not exhaust memory. */
const MAX_CONCURRENT = 2;
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password, PASSWORD_HASH_OPTIONS));
}

/** Whether `password` matches `encoded`; a damaged hash counts as no match (the owner resets it with set-password). */
export function passwordMatches(encoded: string, password: string): Promise<boolean> {
  return limited(() => verify(encoded, password).catch(() => false));
}
