// When a held ACME certificate is renewed, and why, in one pure function of its dates, what the
// CA's renewalInfo (ARI, RFC 9773) said, the failures since the last success and the clock.
//
// The order of preference: the CA's window (it knows about revocations and its own load), else two
// thirds into the certificate's life (a proportion, not "30 days before expiry": that fixed timer
// would renew a 45-day certificate after 15 days and a 6-day one never in time), and after failures
// an exponential backoff that tightens as expiry nears instead of waiting hours on a dying certificate.
import { createHash } from 'node:crypto';
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
  /** The last failure's Retry-After from the CA (AcmeProblem.retryAt, e.g. a rate limit): no retry before it. Default: null. */
  retryNotBefore?: Date | null;
  now: Date;
  /**
   * A number in [0, 1): where in the ARI window to renew, and the retry jitter. Pass the same number
   * for the same window so the time does not move between calls. Default: derived from `seed` and the
   * window, so repeated calls agree without the caller keeping anything.
   */
  random?: number;
  /** Makes the default `random` differ between certificates that share a window (the ARI id fits). Default: "". */
  seed?: string;
  /** Who suggested the window, for the sentence ("Let's Encrypt"). Default: "the CA". */
  caLabel?: string;
  /** IANA zone for the dates in the sentence. Default: the process's zone. */
  timeZone?: string;
}

export interface RenewalPlan extends Omit<AcmeRenewal, 'at'> {
  /** When to renew (ms since the epoch); now or earlier means "renew now". */
  at: number;
  /** When to ask the CA's renewalInfo again (ms since the epoch); null without ARI. */
  checkInfoAt: number | null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** First retry one minute after a failure, doubling per failure up to six hours. */
export const RETRY_FIRST_MS = MINUTE;
export const RETRY_MAX_MS = 6 * HOUR;
/** Within this of expiry (or past it) a failed renewal is retried every few minutes. */
export const URGENT_BEFORE_EXPIRY_MS = DAY;
export const URGENT_RETRY_MS = 5 * MINUTE;
/**
 * The latest a CA's window may have a certificate renewed: this share of its lifetime before expiry
 * (at least an hour), so a late window still leaves time for retries. A window that starts later is
 * ignored. Default share: 0.1 (9 days of a 90-day certificate, 14 hours of a 6-day one).
 */
export const LATEST_BEFORE_EXPIRY_SHARE = 0.1;

export function planRenewal(input: RenewalPlanInput): RenewalPlan {
  const now = input.now.getTime();
  if (!input.facts) {
    const first: RenewalPlan = { at: now, source: 'first', reason: 'No certificate yet: it is ordered now.', window: null, checkInfoAt: null };
    if (input.failures <= 0 || !input.lastFailureAt) return first;
    // A first order that keeps failing backs off like a renewal: a tight loop would only earn the CA's rate limit.
    return retryPlan(first, input, now);
  }
  const due = input.info ? windowPlan(input, input.facts) : lifetimePlan(input.facts, input.timeZone, now);
  const plan: RenewalPlan = {
    ...due,
    window: input.info ? { start: input.info.window.start.toISOString(), end: input.info.window.end.toISOString() } : null,
    checkInfoAt: input.info ? input.info.retryAfter.getTime() : null,
  };
  if (input.failures <= 0 || !input.lastFailureAt) return plan;
  return retryPlan(plan, input, now);
}

/** `plan` moved to the retry after input.failures failures, unless it is due later anyway. */
function retryPlan(plan: RenewalPlan, input: RenewalPlanInput, now: number): RenewalPlan {
  const backoffAt = retryTime(input.facts, input.failures, input.lastFailureAt!.getTime(), randomOf(input));
  // Asking again before the CA's Retry-After only earns the same refusal.
  const caAt = input.retryNotBefore?.getTime() ?? 0;
  const retryAt = Math.max(backoffAt, caAt);
  // A failure before a due time still ahead (a "Renew now" that failed) does not pull it forward.
  if (plan.source !== 'first' && plan.at > Math.max(retryAt, now)) return plan;
  const attempts = input.failures === 1 ? '1 failed attempt' : `${input.failures} failed attempts`;
  const asked = caAt > backoffAt ? ', when the CA said it may' : '';
  return { ...plan, at: retryAt, source: 'retry', reason: `Retrying after ${attempts}; next try ${when(retryAt, now, input.timeZone)}${asked}.` };
}

/** The latest safe renewal time of a certificate: LATEST_BEFORE_EXPIRY_SHARE of its life before expiry, at least an hour. */
export function latestSafeRenewal(facts: RenewalFacts): number {
  const lifetime = facts.notAfter.getTime() - facts.notBefore.getTime();
  return facts.notAfter.getTime() - Math.max(HOUR, lifetime * LATEST_BEFORE_EXPIRY_SHARE);
}

/**
 * The CA's window, unless following it would risk the certificate: a window that ends before it
 * starts, or starts at or after expiry (a CA bug, or a window meant for another certificate), or too
 * close to expiry to leave time for retries, gives way to the lifetime rule, and the reason says so.
 * A window that reaches past the latest safe point is cut there.
 */
function windowPlan(input: RenewalPlanInput, facts: RenewalFacts): Pick<RenewalPlan, 'at' | 'source' | 'reason'> {
  const now = input.now.getTime();
  const { start, end } = input.info!.window;
  const who = input.caLabel ?? 'the CA';
  const span = formatSpan(start.getTime(), end.getTime(), input.timeZone, now);
  const latest = latestSafeRenewal(facts);
  const unusable =
    !(end.getTime() > start.getTime()) ? 'it ends before it starts'
    : start.getTime() >= facts.notAfter.getTime() ? `it starts after the certificate expires (${formatDay(facts.notAfter.getTime(), input.timeZone, now)})`
    : start.getTime() > latest ? `it starts too close to the certificate's expiry (${formatDay(facts.notAfter.getTime(), input.timeZone, now)}) to leave time for retries`
    : null;
  if (unusable) {
    const fallback = lifetimePlan(facts, input.timeZone, now);
    return { ...fallback, reason: `${fallback.reason.replace(/\.$/, '')}: the renewal window ${who} suggested (${span}) was ignored because ${unusable}.` };
  }
  // RFC 9773 §4.2: a window that has already ended means renew now.
  if (end.getTime() <= now) {
    return { at: now, source: 'ari', reason: `The renewal window ${who} suggested (${span}) has passed, so it renews now.` };
  }
  const last = Math.min(end.getTime(), latest);
  const at = Math.floor(start.getTime() + randomOf(input) * (last - start.getTime()));
  const cut = last < end.getTime() ? `, cut short to leave time before it expires on ${formatDay(facts.notAfter.getTime(), input.timeZone, now)}` : '';
  return { at, source: 'ari', reason: `In the renewal window ${who} suggested (${span}${cut}), on ${formatDay(at, input.timeZone, now)}.` };
}

function lifetimePlan(facts: RenewalFacts, timeZone: string | undefined, now: number): Pick<RenewalPlan, 'at' | 'source' | 'reason'> {
  const start = facts.notBefore.getTime();
  const lifetime = facts.notAfter.getTime() - start;
  const at = Math.floor(start + (lifetime * 2) / 3);
  return { at, source: 'lifetime', reason: `Two thirds into its ${describeLifetime(lifetime)} life (${formatDay(at, timeZone, now)}).` };
}

/** "90-day"; certificates are often a second short of whole days (notAfter is inclusive), and 160-hour ones are "6-day". */
export function describeLifetime(ms: number): string {
  if (ms < 2 * DAY) return `${Math.max(1, Math.round(ms / HOUR))}-hour`;
  return `${Math.floor((ms + HOUR) / DAY)}-day`;
}

/**
 * Exponential backoff from the last failure, ±10 % jitter (so certificates that failed together
 * spread out), at most six hours; within a day of expiry, or past it, every five minutes. The six-hour
 * cap with the one-day edge leaves several tries between the due time and expiry even for a 6-day
 * certificate renewed on day 4.
 */
export function retryTime(facts: RenewalFacts | null, failures: number, lastFailureAt: number, random: number): number {
  const backoff = RETRY_FIRST_MS * 2 ** Math.min(Math.max(failures, 1) - 1, 30);
  let delay = Math.min(RETRY_MAX_MS, backoff * (0.9 + 0.2 * random));
  if (facts && facts.notAfter.getTime() - lastFailureAt <= URGENT_BEFORE_EXPIRY_MS) delay = Math.min(delay, URGENT_RETRY_MS);
  return Math.floor(lastFailureAt + delay);
}

function randomOf(input: RenewalPlanInput): number {
  if (input.random !== undefined) return Math.min(Math.max(input.random, 0), 0.999_999);
  const window = input.info ? `${input.info.window.start.getTime()}-${input.info.window.end.getTime()}` : '';
  const digest = createHash('sha256').update(`${input.seed ?? ''}|${window}|${input.facts?.notAfter.getTime() ?? ''}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

function parts(ms: number, timeZone: string | undefined): Record<string, string> {
  const format = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone });
  return Object.fromEntries(format.formatToParts(new Date(ms)).map((part) => [part.type, part.value]));
}

/**
 * Past this distance from now a date says its year: "5 Feb" read in December is the coming
 * February, but a window in 2030 written "1 Jan" would read as next month. Default: 300 days.
 */
const SHOW_YEAR_BEYOND_MS = 300 * DAY;

/** " 2030" when `ms` is far enough from `now` that day and month alone would mislead, else "". */
function yearOf(ms: number, now: number | undefined, timeZone: string | undefined): string {
  return now !== undefined && Math.abs(ms - now) > SHOW_YEAR_BEYOND_MS ? ` ${parts(ms, timeZone).year}` : '';
}

/** "5 Feb", or "5 Feb 2030" far from `now`. */
function formatDay(ms: number, timeZone: string | undefined, now: number): string {
  const p = parts(ms, timeZone);
  return `${p.day} ${p.month}${yearOf(ms, now, timeZone)}`;
}

/** "12:40" today, "7 Dec 12:40" on another day, "2 Jan 2030 12:40" far from now. */
function when(ms: number, now: number, timeZone: string | undefined): string {
  const p = parts(ms, timeZone);
  const today = parts(now, timeZone);
  const time = `${p.hour}:${p.minute}`;
  return p.day === today.day && p.month === today.month && p.year === today.year ? time : `${p.day} ${p.month}${yearOf(ms, now, timeZone)} ${time}`;
}

/**
 * "12–14 Jan", "30 Jan – 2 Feb", or "12 Jan 10:00–16:00" for a window within one day; with the year
 * when either end is far from `now` ("1–2 Jan 2030"). Default `now`: none, no year.
 */
export function formatSpan(start: number, end: number, timeZone: string | undefined, now?: number): string {
  const a = parts(start, timeZone);
  const b = parts(end, timeZone);
  const showYear = yearOf(start, now, timeZone) !== '' || yearOf(end, now, timeZone) !== '';
  const y = (p: Record<string, string>) => (showYear ? ` ${p.year}` : '');
  if (a.day === b.day && a.month === b.month && a.year === b.year) return `${a.day} ${a.month}${y(a)} ${a.hour}:${a.minute}–${b.hour}:${b.minute}`;
  if (a.month === b.month && a.year === b.year) return `${a.day}–${b.day} ${a.month}${y(a)}`;
  return `${a.day} ${a.month}${a.year !== b.year ? y(a) : ''} – ${b.day} ${b.month}${y(b)}`;
}
