// How much one client may ask of a route: requests a minute, sign-in attempts a minute on the app's
// sign-in paths (login-paths.ts), and the size of a request body. Rates are token buckets: a client
// may send `perMinute` requests at once, then one every 60/perMinute seconds. A bucket is stored as
// the one time at which it is full again (the generic cell rate algorithm's "theoretical arrival
// time"), so a slot is one number and a bucket that is full again is recognisably worthless.
//
// Counters live in two fixed-size tables (bounded-table.ts) shared by every route: a flood from a
// million addresses holds at most RATE_TABLE_CAPACITY + LOGIN_TABLE_CAPACITY counters (about 20 MB
// at worst with their keys), and evicting one never frees a client from a limit it is under for
// long: a client that keeps sending keeps its slot. A client is counted by clientKey (client-key.ts):
// an IPv6 visitor by its /64, so hopping through the addresses its provider handed it buys no
// fresh budget; the refusal and the log still name the full address.
//
// This machine's own networks are never rate limited unless the route asks (limits.limitLan): a
// household must not lock itself out of its own services. A request through a proxy nobody listed
// (PassRequest.viaUnknownProxy: a tunnel at 127.0.0.1) is not the household, and is limited under
// the tunnel's address: its visitors share one budget until the tunnel is listed as trusted. The body limit applies to everyone: it is
// a property of the service (what it can take), not a lockout.
import type { AccessSettings } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import { ProxyError } from '../proxy/errors.js';
import type { PassRequest, RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import { BoundedTable } from './bounded-table.js';
import { unknownProxyAdvice } from './client-address.js';
import { clientKey } from './client-key.js';
import type { AccessContext } from './context.js';
import { loginMatcherFor, type LoginMatcher } from './login-paths.js';
import type { AccessPiece } from './piece.js';

/** Request-rate buckets kept at once, all routes together. */
export const RATE_TABLE_CAPACITY = 100_000;
/** Sign-in-attempt buckets kept at once, all routes together. */
export const LOGIN_TABLE_CAPACITY = 20_000;
/** Float slack when comparing sums of intervals. */
const EPSILON_MS = 1e-6;

/** Token buckets in a bounded table; each key's bucket holds `perMinute` tokens. */
export class RateBuckets {
  readonly table: BoundedTable;

  constructor(capacity: number) {
    // A bucket is worthless once full again: a new one would start the same.
    this.table = new BoundedTable(capacity, (table, slot, now) => (table.a[slot] as number) <= now);
  }

  /**
   * Takes one token from `key`'s bucket (capacity `perMinute`, refilled perMinute/60 a second).
   * Returns 0 when a token was taken, else the ms until one will be there.
   */
  take(key: string, perMinute: number, now: number): number {
    const interval = 60_000 / perMinute;
    // How far ahead of now the bucket may be "full again" and still hold a token.
    const burst = (perMinute - 1) * interval;
    const { table } = this;
    let slot = table.find(key);
    let fullAt = now;
    if (slot === -1) slot = table.insert(key, now);
    else fullAt = Math.max(table.a[slot] as number, now);
    const owed = fullAt - now;
    if (owed > burst + EPSILON_MS) return owed - burst;
    table.a[slot] = fullAt + interval;
    return 0;
  }

  /** Tokens in `key`'s bucket now (tests and the route doctor); perMinute when unknown. */
  tokens(key: string, perMinute: number, now: number): number {
    const slot = this.table.find(key);
    if (slot === -1) return perMinute;
    const owed = Math.max(0, (this.table.a[slot] as number) - now);
    return perMinute - owed / (60_000 / perMinute);
  }
}

/** For a refusal's detail: what the admin should do about a proxy nobody listed ('' when there is none). */
function advice(request: PassRequest): string {
  return request.viaUnknownProxy === true ? ` ${unknownProxyAdvice(request)}` : '';
}

/** Whole seconds until a token, as Retry-After says it (at least 1). */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

export class ClientLimits implements AccessPiece {
  private readonly rates = new RateBuckets(RATE_TABLE_CAPACITY);
  private readonly logins = new RateBuckets(LOGIN_TABLE_CAPACITY);
  /** Route id → the short prefix its keys carry ("7 "), so a key is not a whole id long. */
  private readonly routePrefixes = new Map<string, string>();

  constructor(
    private readonly context: () => AccessContext,
    /** Milliseconds; tests give their own. */
    private readonly clock: () => number = Date.now,
  ) {}

  apply(_settings: AccessSettings): void {
    // Limits are per route (route.access.limits): nothing shared to rebuild.
  }

  /** How many counters are held now (the flood bench reads it). */
  get counters(): { rates: number; logins: number } {
    return { rates: this.rates.table.size, logins: this.logins.table.size };
  }

  passFor(route: Route, base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    const { requestsPerMinute, loginPerMinute, maxBodyBytes, limitLan } = route.access.limits;
    const login = loginPerMinute > 0 ? loginMatcherFor(route.app) : null;
    if (requestsPerMinute === 0 && login === null && maxBodyBytes === 0) return null;
    const prefix = this.prefixFor(route.id);
    const { ownNetworks } = this.context();
    const check = {
      title: base.title,
      requestsPerMinute,
      loginPerMinute,
      login,
      maxBodyBytes,
      rateRule: `rate: ${requestsPerMinute} requests a minute per address`,
      loginRule: `login: ${loginPerMinute} attempts a minute per address`,
      bodyRule: `body: at most ${maxBodyBytes} bytes`,
    };
    return {
      name: 'limits',
      run: (request) => {
        if (maxBodyBytes > 0 && !request.upgrade) {
          const refused = this.body(request, check);
          if (refused) return refused;
        }
        // Through a proxy nobody listed, the peer's own-network address is not the visitor's.
        if (!limitLan && request.viaUnknownProxy !== true && ownNetworks.isOwnNetwork(request.client)) return undefined;
        return this.rate(request, prefix + clientKey(request.client), check);
      },
    };
  }

  /** A declared body over the limit is refused before anything is read; a streamed one is cut in forward.ts. */
  private body(request: PassRequest, check: { title: string; maxBodyBytes: number; bodyRule: string }): ProxyError | undefined {
    request.maxBodyBytes = check.maxBodyBytes;
    const declared = request.req.headers['content-length'];
    if (declared === undefined || !(Number(declared) > check.maxBodyBytes)) return undefined;
    return new ProxyError('body_too_large', `${request.client} sent a ${declared}-byte body to ${check.title}, which takes at most ${check.maxBodyBytes} bytes.`, { rule: check.bodyRule });
  }

  private rate(
    request: PassRequest,
    key: string,
    check: { title: string; requestsPerMinute: number; loginPerMinute: number; login: LoginMatcher | null; rateRule: string; loginRule: string },
  ): ProxyError | undefined {
    const now = this.clock();
    if (check.requestsPerMinute > 0) {
      const wait = this.rates.take(key, check.requestsPerMinute, now);
      if (wait > 0) {
        const seconds = retryAfterSeconds(wait);
        return new ProxyError('rate_limited', `${request.client} sent more than ${check.requestsPerMinute} requests a minute to ${check.title}; it may send again in ${seconds} s.${advice(request)}`, {
          rule: check.rateRule,
          headers: { 'retry-after': String(seconds) },
        });
      }
    }
    if (check.login === null) return undefined;
    const path = check.login.match(request.req.method, request.target.path);
    if (path === null) return undefined;
    const wait = this.logins.take(key, check.loginPerMinute, now);
    if (wait === 0) return undefined;
    const seconds = retryAfterSeconds(wait);
    return new ProxyError('login_rate_limited', `${request.client} tried to sign in to ${check.title} (${path.method} ${request.target.path}) more than ${check.loginPerMinute} times a minute; it may try again in ${seconds} s.${advice(request)}`, {
      rule: check.loginRule,
      headers: { 'retry-after': String(seconds) },
    });
  }

  private prefixFor(routeId: string): string {
    let prefix = this.routePrefixes.get(routeId);
    if (prefix === undefined) {
      prefix = `${this.routePrefixes.size} `;
      this.routePrefixes.set(routeId, prefix);
    }
    return prefix;
  }
}
