// Basic auth in front of a route: the browser's own sign-in prompt, checked against the sign-in
// users (access-users.ts).
//
// - No or wrong credentials: 401 sign_in_required with `WWW-Authenticate: Basic realm="<route
//   title>", charset="UTF-8"` (RFC 7617). The realm is what the user named the route, nothing else.
// - Right credentials: request.user is set, and the service gets `Remote-User: <name>`; the client's
//   own Remote-User (and Remote_User) is dropped. The Authorization header is NOT passed on: the
//   service would see a password meant for Gatehouse, and most apps behind basic auth either ignore
//   it or answer it with their own 401 prompt. (An app that wants its own basic auth should not be
//   put behind Gatehouse's.)
// - Failures: FAILURE_LIMIT wrong attempts from one client (clientKey: an IPv6 visitor by its /64)
//   within FAILURE_WINDOW_MS refuse further attempts from it with 429 login_rate_limited until the
//   window ends. A guess refused because the hash queue is busy, or because the client already has
//   CHECKS_PER_CLIENT checks waiting, counts as a wrong attempt: guessers spread over addresses
//   cannot keep the queue full for free. A client with no recent failure goes ahead of those that
//   have one in the queue (password-hash.ts), so the owner's first sign-in gets through a guess loop. This machine's own
//   networks count too — guessing from the LAN (an infected laptop) is still guessing — but the lock
//   is never long: at most the rest of one window (5 minutes), and a browser that already signed
//   in (a remembered check, access-users.ts) keeps working throughout, so the owner is not locked
//   out by somebody else's guesses.
import { ProxyError } from '../proxy/errors.js';
import type { PassRequest, RequestPass } from '../proxy/passes/pass.js';
import type { AccessUsers } from './access-users.js';
import { clientKey } from './client-key.js';

/** Wrong attempts from one address that start a lock. */
export const FAILURE_LIMIT = 10;
/** The window those are counted in, and the longest a lock lasts, in ms. Default: 5 minutes. */
export const FAILURE_WINDOW_MS = 5 * 60_000;
/** Addresses tracked at most; past that the oldest are forgotten (a flood cannot grow the table). */
export const FAILURE_TABLE_MAX = 10_000;
/** Password checks one client may have waiting or running at once; more are refused (and count as wrong). */
export const CHECKS_PER_CLIENT = 2;

interface Failures {
  count: number;
  /** When the window that began with the first failure ends. */
  until: number;
}

/** Wrong attempts per client address, bounded in size and time. One per runtime, shared by routes. */
export class FailureLimiter {
  private readonly table = new Map<string, Failures>();
  /**
   * Checks in the hash queue per client. Bounded without eviction: an entry exists only while its
   * check waits or runs, and the queue holds at most a few dozen (password-hash.ts).
   */
  private readonly checking = new Map<string, number>();

  /** Takes one of `client`'s check slots; false when it already has CHECKS_PER_CLIENT. */
  startCheck(client: string): boolean {
    const now = this.checking.get(client) ?? 0;
    if (now >= CHECKS_PER_CLIENT) return false;
    this.checking.set(client, now + 1);
    return true;
  }

  endCheck(client: string): void {
    const now = (this.checking.get(client) ?? 1) - 1;
    if (now <= 0) this.checking.delete(client);
    else this.checking.set(client, now);
  }

  /** Whether `client` got a password wrong within the current window. */
  hasFailed(client: string, now = Date.now()): boolean {
    const entry = this.table.get(client);
    return entry !== undefined && entry.until > now;
  }

  /** The seconds to wait when `client` is locked out now, or 0. */
  lockedFor(client: string, now = Date.now()): number {
    const entry = this.table.get(client);
    if (!entry) return 0;
    if (entry.until <= now) {
      this.table.delete(client);
      return 0;
    }
    return entry.count >= FAILURE_LIMIT ? Math.ceil((entry.until - now) / 1000) : 0;
  }

  fail(client: string, now = Date.now()): void {
    let entry = this.table.get(client);
    if (!entry || entry.until <= now) {
      this.table.delete(client);
      entry = { count: 0, until: now + FAILURE_WINDOW_MS };
      this.table.set(client, entry);
      if (this.table.size > FAILURE_TABLE_MAX) this.table.delete(this.table.keys().next().value as string);
    }
    entry.count++;
  }

  succeed(client: string): void {
    this.table.delete(client);
  }

  get size(): number {
    return this.table.size;
  }
}

/** A header-safe quoted realm: printable ASCII only, quotes and backslashes dropped. */
export function realmOf(title: string): string {
  const clean = title.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '').slice(0, 100);
  return clean.trim() === '' ? 'Gatehouse' : clean;
}

/** The name and password of a Basic Authorization header, or null when it has none. */
export function basicCredentials(header: string | undefined): { name: string; password: string } | null {
  if (!header) return null;
  const match = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function basicAuthPass(title: string, allowed: 'all' | readonly string[], users: AccessUsers, failures: FailureLimiter): RequestPass {
  const challenge = { 'WWW-Authenticate': `Basic realm="${realmOf(title)}", charset="UTF-8"` };
  const permitted = allowed === 'all' ? null : new Set(allowed);
  const ruleName = `sign-in: basic auth on ${title}`;
  const required = (detail: string) => new ProxyError('sign_in_required', detail, { rule: ruleName, headers: challenge });
  const admit = (request: PassRequest, name: string) => {
    request.user = name;
    request.rule = ruleName;
    // '' removes the client's Authorization without setting one (request-head.ts).
    const set = ['Authorization', '', 'Remote-User', name];
    request.upstreamSet = request.upstreamSet === null ? set : [...request.upstreamSet, ...set];
    return undefined;
  };
  return {
    name: 'sign-in',
    run(request) {
      const credentials = basicCredentials(request.req.headers.authorization);
      if (!credentials) return required(`${title} asks for a user name and password; none was sent.`);
      const { name, password } = credentials;
      const mayEnter = permitted === null || permitted.has(name);
      if (mayEnter && users.remembered(name, password)) return admit(request, name);
      const key = clientKey(request.client);
      const wait = failures.lockedFor(key);
      if (wait > 0) {
        return new ProxyError('login_rate_limited', `${request.client} got the password wrong ${FAILURE_LIMIT} times within ${FAILURE_WINDOW_MS / 60_000} minutes; further attempts are refused for ${wait} s.`, {
          rule: `${ruleName}: ${FAILURE_LIMIT} wrong passwords`,
          headers: { 'Retry-After': String(wait) },
        });
      }
      const busy = (detail: string) => {
        failures.fail(key);
        return new ProxyError('login_rate_limited', detail, { rule: `${ruleName}: busy`, headers: { 'Retry-After': '5' } });
      };
      // A browser's parallel requests with the same header share one check and take no slot.
      const joins = users.isChecking(name, password);
      if (!joins && !failures.startCheck(key)) return busy(`${request.client} sent another password while its last ${CHECKS_PER_CLIENT} were still being checked; counted as a wrong attempt.`);
      const release = () => {
        if (!joins) failures.endCheck(key);
      };
      // Asked again while the check waits: a client refused meanwhile drops back in the queue.
      const priority = () => (failures.hasFailed(key) ? 'later' : 'first');
      return users.verify(name, password, priority).then(
        (right) => {
          release();
          if (right && mayEnter) {
            failures.succeed(key);
            return admit(request, name);
          }
          failures.fail(key);
          return required(right ? `"${name}" signed in with the right password but may not use ${title}.` : `A wrong user name or password for ${title} (user "${name.slice(0, 64)}").`);
        },
        (error: unknown) => {
          release();
          // The hash queue is full (password-hash.ts): a burst of guesses waits, not the CPU.
          if ((error as { code?: string }).code === 'rate_limited') return busy('Gatehouse is busy checking other passwords; counted as a wrong attempt.');
          throw error;
        },
      );
    },
  };
}
