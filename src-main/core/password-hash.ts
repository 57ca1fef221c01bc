// Used by the admin sign-in (headless/auth) and the sign-in users of routes (core/access), each
// with its own queue.
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

/** At most this many hashes run at once per queue (one per core): a burst must queue, not exhaust memory and CPU. */
const MAX_CONCURRENT = 2;
/**
 * At most this many wait per queue; more are refused at once (429), so a flood of guesses cannot
 * put the owner's sign-in behind minutes of hashing. About a second of hashing on a busy 2-core machine.
 */
export const MAX_WAITING = 16;

/**
 * How urgent a check is: 'first' (a client with no recent wrong password) may take a 'later' one's
 * place. A function is asked again whenever the queue is full, so a waiting check whose client has
 * since been refused or got a password wrong drops back.
 */
export type HashPriority = 'first' | 'later';
export type HashPriorityOf = HashPriority | (() => HashPriority);

interface Waiter {
  priority: HashPriorityOf;
  go: () => void;
  refuse: (error: Error) => void;
}

const busy = () => new ApiError('rate_limited', 'Gatehouse is busy checking other passwords. Try again in a few seconds.');
const isLater = (waiter: Waiter) => (typeof waiter.priority === 'function' ? waiter.priority() : waiter.priority) === 'later';

/**
 * One bounded queue of argon2 work. The admin sign-in and the route sign-in users each have
 * their own (headless/auth/password-hash.ts, access-users.ts), so guesses at a route's basic auth
 * can never fill the queue the owner's admin sign-in waits in.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  /**
   * Runs `work` when a slot is free. When the queue is full a 'first' check takes the place of the
   * newest 'later' one (which is refused as busy): clients already guessing wrong cannot keep a
   * client with a clean record out, however many of them there are.
   */
  private async limited<T>(work: () => Promise<T>, priority: HashPriorityOf): Promise<T> {
    if (this.running >= MAX_CONCURRENT) {
      await new Promise<void>((go, refuse) => {
        const waiter = { priority, go, refuse };
        const first = !isLater(waiter);
        if (this.waiting.length >= MAX_WAITING) {
          let evict = -1;
          if (first) for (let i = this.waiting.length - 1; i >= 0 && evict === -1; i--) if (isLater(this.waiting[i] as Waiter)) evict = i;
          if (evict === -1) {
            refuse(busy());
            return;
          }
          (this.waiting.splice(evict, 1)[0] as Waiter).refuse(busy());
        }
        // 'first' checks go ahead of every 'later' one.
        const at = first ? this.waiting.findIndex(isLater) : -1;
        if (at === -1) this.waiting.push(waiter);
        else this.waiting.splice(at, 0, waiter);
      });
    }
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.go();
    }
  }

  hash(password: string): Promise<string> {
    return this.limited(async () => (await loadArgon2()).hash(password, PASSWORD_HASH_OPTIONS), 'first');
  }

  /** Whether `password` matches `encoded`; a damaged hash counts as no match (the owner resets it with set-password). */
  matches(encoded: string, password: string, priority: HashPriorityOf = 'first'): Promise<boolean> {
    return this.limited(async () => (await loadArgon2()).verify(encoded, password).catch(() => false), priority);
  }
}
