// Failed sign-ins (passwords, TOTP and recovery codes, password confirmations, one-time links)
// counted per client address: after `maxFailures` within `windowMs` that address is refused until
// its oldest failure ages out. IPv6 clients count per /64, and their /56 and /48 get a larger budget
// too, since one site often holds a /56 or /48 and could spread guesses over its /64s. All clients
// together get `maxFailuresOverall`, so no number of addresses buys more guesses; the machine's own
// loopback address (the owner at the server) is exempt from that overall budget only. The map is
// bounded, so a flood of addresses cannot grow it without end.
import { isIPv6 } from 'node:net';
import { ApiError } from '../../../shared/api.js';

export interface FailureLimits {
  /** Default: 5. */
  maxFailures: number;
  /** Default: 15 minutes. */
  windowMs: number;
  /** Addresses tracked at most; the longest-unseen is forgotten first. Default: 10000. */
  maxClients: number;
  /** Failures from every client together (but 127.0.0.1 and ::1) within `windowMs`. Default: 50. */
  maxFailuresOverall: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { maxFailures: 5, windowMs: 15 * 60_000, maxClients: 10_000, maxFailuresOverall: 50 };

/** A /56 gets twice a /64's budget, a /48 four times. */
const NETWORK_TIERS = [
  { bits: 56, factor: 2 },
  { bits: 48, factor: 4 },
] as const;

const OWN_LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export class FailureLimiter {
  /** Failure times per address, oldest first; Map order is insertion order, refreshed on each failure. */
  readonly #failures = new Map<string, number[]>();
  /** Failure times from every client but the machine's own loopback, oldest first. */
  readonly #overall: number[] = [];

  constructor(readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS) {}

  /**
   * Counts an attempt as a failure before it is checked (so a burst of parallel guesses cannot all
   * run), or throws 429 when the address has none left. Call `forgive` when the attempt succeeds.
   */
  begin(address: string, now: number): void {
    const buckets = failureBuckets(address, this.limits.maxFailures);
    for (const { key, max, who } of buckets) {
      const times = this.#recent(key, now);
      if (times.length >= max) throw this.#refusal(`from ${who}`, times[0]!, now);
    }
    const overall = !OWN_LOOPBACK.has(address);
    if (overall) {
      prune(this.#overall, now - this.limits.windowMs);
      if (this.#overall.length >= this.limits.maxFailuresOverall) throw this.#refusal('from all devices together', this.#overall[0]!, now);
      this.#overall.push(now);
    }
    for (const { key } of buckets) {
      const times = this.#recent(key, now);
      times.push(now);
      this.#failures.delete(key);
      this.#failures.set(key, times);
    }
    while (this.#failures.size > this.limits.maxClients) this.#failures.delete(this.#failures.keys().next().value!);
  }

  /** Takes back the failure `begin` counted: the attempt was right. */
  forgive(address: string): void {
    for (const { key } of failureBuckets(address, this.limits.maxFailures)) {
      const times = this.#failures.get(key);
      times?.pop();
      if (times?.length === 0) this.#failures.delete(key);
    }
    if (!OWN_LOOPBACK.has(address)) this.#overall.pop();
  }

  #refusal(who: string, oldest: number, now: number): ApiError {
    const minutes = Math.max(1, Math.ceil((oldest + this.limits.windowMs - now) / 60_000));
    const device = who === 'from this device';
    return new ApiError('rate_limited', `Too many failed attempts ${who}. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
      fix: device
        ? 'If you forgot the password, run "gatehouse set-password" on the server.'
        : 'On the server itself, the admin at 127.0.0.1 still takes the right password; or run "gatehouse set-password" there.',
    });
  }

  #recent(key: string, now: number): number[] {
    return prune(this.#failures.get(key) ?? [], now - this.limits.windowMs);
  }
}

function prune(times: number[], notAfter: number): number[] {
  while (times.length > 0 && times[0]! <= notAfter) times.shift();
  return times;
}

/** What an address's failures count against: its own key, and for IPv6 its /56 and /48 too. */
function failureBuckets(address: string, maxFailures: number): Array<{ key: string; max: number; who: string }> {
  const key = clientKey(address);
  const own = { key, max: maxFailures, who: 'this device' };
  if (!key.endsWith('::/64')) return [own];
  const groups = key.slice(0, -'::/64'.length).split(':');
  return [
    own,
    ...NETWORK_TIERS.map(({ bits, factor }) => {
      const prefix = bits === 48 ? groups.slice(0, 3) : [...groups.slice(0, 3), (parseInt(groups[3]!, 16) & 0xff00).toString(16)];
      return { key: `${prefix.join(':')}::/${bits}`, max: maxFailures * factor, who: 'this network' };
    }),
  ];
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
