// Failed sign-ins (passwords, TOTP and recovery codes, password confirmations, one-time links)
// counted per client address: after `maxFailures` within `windowMs` that address is refused until
// its oldest failure ages out. The map is bounded, so a flood of addresses cannot grow it without end.
import { isIPv6 } from 'node:net';
import { ApiError } from '../../../shared/api.js';

export interface FailureLimits {
  /** Default: 5. */
  maxFailures: number;
  /** Default: 15 minutes. */
  windowMs: number;
  /** Addresses tracked at most; the longest-unseen is forgotten first. Default: 10000. */
  maxClients: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { maxFailures: 5, windowMs: 15 * 60_000, maxClients: 10_000 };

export class FailureLimiter {
  /** Failure times per address, oldest first; Map order is insertion order, refreshed on each failure. */
  readonly #failures = new Map<string, number[]>();

  constructor(readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS) {}

  /**
   * Counts an attempt as a failure before it is checked (so a burst of parallel guesses cannot all
   * run), or throws 429 when the address has none left. Call `forgive` when the attempt succeeds.
   */
  begin(address: string, now: number): void {
    const times = this.#recent(address, now);
    if (times.length >= this.limits.maxFailures) {
      const minutes = Math.max(1, Math.ceil((times[0]! + this.limits.windowMs - now) / 60_000));
      throw new ApiError('rate_limited', `Too many failed attempts from this device. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
        fix: 'If you forgot the password, run "gatehouse set-password" on the server.',
      });
    }
    times.push(now);
    this.#failures.delete(address);
    this.#failures.set(address, times);
    if (this.#failures.size > this.limits.maxClients) this.#failures.delete(this.#failures.keys().next().value!);
  }

  /** Takes back the failure `begin` counted: the attempt was right. */
  forgive(address: string): void {
    const times = this.#failures.get(address);
    times?.pop();
    if (times?.length === 0) this.#failures.delete(address);
  }

  #recent(address: string, now: number): number[] {
    const times = this.#failures.get(address) ?? [];
    while (times.length > 0 && times[0]! <= now - this.limits.windowMs) times.shift();
    return times;
  }
}

/**
 * The key a client's failures are counted under: its IPv4 address (also when it arrives mapped into
 * IPv6), or the /64 network of an IPv6 address, since one home or host usually holds a whole /64
 * and could otherwise pick a fresh address for every few guesses.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
