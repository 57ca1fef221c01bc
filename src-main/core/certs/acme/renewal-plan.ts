// When a held ACME certificate is renewed, and why, in one pure function of its dates, what the
// CA's renewalInfo (ARI, RFC 9773) said, the failures since the last success and the clock.
// Issue 15 foundation: two thirds of the lifetime only; ARI windows and backoff come next.
import type { AcmeRenewal } from '../../../../shared/acme.js';

export interface RenewalFacts {
  notBefore: Date;
  notAfter: Date;
}

/** A renewalInfo answer: the suggested window, and when to ask again (Retry-After). */
export interface RenewalInfo {
  window: { start: Date; end: Date };
  explanationUrl: string | null;
  /** When to fetch renewalInfo again. */
  retryAfter: Date;
}

export interface RenewalPlanInput {
  facts: RenewalFacts | null;
  info: RenewalInfo | null;
  failures: number;
  lastFailureAt: Date | null;
  now: Date;
  /** A random number in [0, 1): where in the window to renew (tests pass a fixed one). */
  random?: number;
}

export interface RenewalPlan extends Omit<AcmeRenewal, 'at'> {
  /** When to renew (ms since the epoch); now or earlier means "renew now". */
  at: number;
}

export function planRenewal(input: RenewalPlanInput): RenewalPlan {
  if (!input.facts) return { at: input.now.getTime(), source: 'first', reason: 'No certificate yet: it is ordered now.', window: null };
  const start = input.facts.notBefore.getTime();
  const end = input.facts.notAfter.getTime();
  const at = start + ((end - start) * 2) / 3;
  return { at, source: 'lifetime', reason: 'Two thirds into its lifetime.', window: null };
}
