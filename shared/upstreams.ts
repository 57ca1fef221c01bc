// A route's upstreams: the servers behind one service, how requests are spread over them, and how
// their health is judged. The schemas here are the one source of validation for both sides; the
// engine's behaviour behind each field is in src-main/core/upstreams/ and docs/balancing.md,
// docs/health-checks.md and docs/upstream-limits.md say the same for users.
//
// In short:
//   - A route has 1–16 upstreams (a redirect route none: shared/redirect.ts), each `http(s)://IP-or-name:port`, with a weight, a "backup" flag
//     (used only when no primary is available) and a "drained" flag (no new requests; planned
//     maintenance). Drained upstreams are never picked.
//   - The policy picks among the available primaries (then the available backups): failover (the
//     first in order; the default), weighted round robin, least connections, client-address hash, or
//     a sticky cookie (weighted round robin for a client's first request, then the same upstream for
//     as long as it is available, else another, and the cookie is re-pinned).
//   - An upstream is available unless its active check says down or a passive failure put it in
//     its cool-down. When none is available (drained ones aside), the one that failed least
//     recently is still tried: a wrong health check never takes a working service offline.
//   - A request is tried on at most `balancing.tries` upstreams (the first included); see
//     docs/balancing.md for which failures are retried.
// Imports nothing but zod: this file is bundled into the renderer.
import { z } from 'zod';

/**
 * Normalizes what a person types for an upstream into `scheme://host:port`.
 * Accepts "10.33.0.4:8096", "http://10.33.0.4:8096", "https://nas.lan" (port 443 implied).
 * Returns the problem as a string instead when the input cannot be an upstream.
 */
export function parseUpstream(input: string): { url: string } | { problem: string } {
  const text = input.trim();
  if (text === '') return { problem: 'enter the service address, such as 10.33.0.4:8096 or https://10.33.0.9:8006' };
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  const scheme = schemeMatch?.[1]?.toLowerCase();
  if (scheme && scheme !== 'http' && scheme !== 'https') {
    return { problem: `"${text}" uses ${scheme}://; an upstream must be http:// or https://` };
  }
  // Checked before URL parsing, which calls an out-of-range port "not a URL" and takes port 0.
  const givenPort = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\[[^\]]*\]|[^/:?#@[\]]*):(-?\d+)(?:[/?#]|$)/i.exec(text)?.[1];
  if (givenPort !== undefined && !(Number(givenPort) >= 1 && Number(givenPort) <= 65535)) {
    return { problem: `"${text}" has port ${givenPort}; a port is a number from 1 to 65535` };
  }
  let url: URL;
  try {
    url = new URL(scheme ? text : `http://${text}`);
  } catch {
    return { problem: `"${text}" is not an address; write it as IP:port (10.33.0.4:8096) or a URL (https://nas.lan:5001)` };
  }
  if (url.username || url.password) return { problem: `"${text}" contains a user name or password; put credentials in the service, not the address` };
  if (url.pathname !== '/' && url.pathname !== '') return { problem: `"${text}" has a path (${url.pathname}); an upstream is only scheme, host and port` };
  if (url.search || url.hash) return { problem: `"${text}" has a query or fragment; an upstream is only scheme, host and port` };
  if (!url.hostname) return { problem: `"${text}" has no host` };
  if (!scheme && !url.port && !/:\d+$/.test(text)) {
    return { problem: `"${text}" has no port; write it as ${url.hostname}:PORT, or as http://${url.hostname} for port 80` };
  }
  const protocol = url.protocol.slice(0, -1);
  const port = url.port || (protocol === 'https' ? '443' : '80');
  return { url: `${protocol}://${url.hostname}:${port}` };
}

/** An upstream address, stored normalized as `http(s)://host:port`. */
export const UpstreamSchema = z.string().transform((value, ctx) => {
  const parsed = parseUpstream(value);
  if ('problem' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.url;
});

// ---------------------------------------------------------------------------------------------
// The upstreams of a route

/** At most this many upstreams per route. */
export const MAX_UPSTREAMS = 16;

export const UpstreamTargetSchema = z
  .object({
    /** `http(s)://host:port`, normalized from what was typed ("10.33.0.4:8096"). */
    url: UpstreamSchema,
    /** Its share of requests under weighted round robin and the sticky cookie's first pick (1–100). Default: 1. */
    weight: z.number({ error: 'a weight is a whole number from 1 to 100' }).int('a weight is a whole number from 1 to 100').min(1, 'a weight is a whole number from 1 to 100').max(100, 'a weight is a whole number from 1 to 100').default(1),
    /** Used only when no primary (non-backup) upstream is available. Default: false. */
    backup: z.boolean().default(false),
    /** Takes no new requests; requests under way finish (planned maintenance). Default: false. */
    drained: z.boolean().default(false),
  })
  .strict();
export type UpstreamTarget = z.output<typeof UpstreamTargetSchema>;
export type UpstreamTargetInput = z.input<typeof UpstreamTargetSchema>;

/**
 * A route's upstream list: 1–16 entries, no address twice. `http://` and `https://` to the same
 * host and port count as the same address: they are one server, whose health is one state.
 */
export const UpstreamListSchema = z
  .array(UpstreamTargetSchema)
  // "At least one" is the route's rule (shared/model.ts): a redirect route has none.
  .max(MAX_UPSTREAMS, `a route has at most ${MAX_UPSTREAMS} upstreams`)
  .superRefine((list, ctx) => {
    const seen = new Map<string, string>();
    for (const [i, target] of list.entries()) {
      const address = target.url.slice(target.url.indexOf('://') + 3);
      const earlier = seen.get(address);
      if (earlier === target.url) ctx.addIssue({ code: 'custom', path: [i, 'url'], message: `${target.url} is listed twice` });
      else if (earlier) ctx.addIssue({ code: 'custom', path: [i, 'url'], message: `${address} is listed twice (as ${earlier} and ${target.url}); one server is one upstream` });
      else seen.set(address, target.url);
    }
  });

/** One upstream, as a route with a single server gets it. */
export function singleUpstream(url: string): UpstreamTarget[] {
  return [{ url, weight: 1, backup: false, drained: false }];
}

// ---------------------------------------------------------------------------------------------
// Balancing

export const UPSTREAM_POLICIES = ['failover', 'round_robin', 'least_connections', 'client_hash', 'sticky_cookie'] as const;
export type UpstreamPolicy = (typeof UPSTREAM_POLICIES)[number];

/** What each policy is called in the UI. */
export const POLICY_LABELS: Record<UpstreamPolicy, string> = {
  failover: 'Failover (first available, in order)',
  round_robin: 'Round robin (by weight)',
  least_connections: 'Least connections',
  client_hash: 'Same server per client address',
  sticky_cookie: 'Same server per browser (cookie)',
};

/** The cookie the sticky_cookie policy sets. Its value names no address: it is an opaque tag. */
export const STICKY_COOKIE_NAME = 'gatehouse_upstream';

export const BalancingSchema = z
  .object({
    /** How a request's upstream is picked. Default: failover. */
    policy: z.enum(UPSTREAM_POLICIES, { error: `a policy is one of ${UPSTREAM_POLICIES.join(', ')}` }).default('failover'),
    /** Upstreams one request may be tried on, the first included (1 = never retried). Default: 3. */
    tries: z.number({ error: 'tries is a whole number from 1 to 10' }).int('tries is a whole number from 1 to 10').min(1, 'tries is a whole number from 1 to 10').max(10, 'tries is a whole number from 1 to 10').default(3),
  })
  .strict();
export type Balancing = z.output<typeof BalancingSchema>;

export function defaultBalancing(): Balancing {
  return { policy: 'failover', tries: 3 };
}

// ---------------------------------------------------------------------------------------------
// Health checks

const whole = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} is a whole number from ${min} to ${max}` })
    .int(`${what} is a whole number from ${min} to ${max}`)
    .min(min, `${what} is a whole number from ${min} to ${max}`)
    .max(max, `${what} is a whole number from ${min} to ${max}`);

export const ActiveCheckSchema = z
  .object({
    /** Check each upstream periodically. Off: only passive health (traffic) judges it. Default: true. */
    enabled: z.boolean().default(true),
    /** "http": a GET of `path`, judged by status and body; "tcp": the port accepts a connection. Default: http. */
    kind: z.enum(['http', 'tcp'], { error: 'a check is "http" or "tcp"' }).default('http'),
    /** The path the HTTP check asks for. Default: "/". */
    path: z
      .string()
      .trim()
      .max(500, 'a check path has at most 500 characters')
      .regex(/^\/[\x21-\x7e]*$/, 'a check path starts with / and has no spaces, such as /health')
      .default('/'),
    /** Lowest status that passes. Default: 200. */
    statusFrom: whole('the lowest passing status', 100, 599).default(200),
    /** Highest status that passes. Default: 499 (a sign-in page's 401 or a 404 still means it runs). */
    statusTo: whole('the highest passing status', 100, 599).default(499),
    /** Text the body must contain to pass (first 64 KiB); null: any body. Default: null. */
    bodyContains: z.string().max(200, 'the expected text has at most 200 characters').nullable().default(null),
    /** Time from the end of one check to the start of the next. Default: 2000. */
    intervalMs: whole('the check interval (ms)', 500, 3_600_000).default(2000),
    /** A check not answered within this fails. Default: 1500. */
    timeoutMs: whole('the check timeout (ms)', 100, 60_000).default(1500),
    /** Consecutive failed checks that mark an upstream down. Default: 2. */
    fails: whole('fails', 1, 10).default(2),
    /** Consecutive passed checks that mark a down (or unknown) upstream up. Default: 2. */
    passes: whole('passes', 1, 10).default(2),
  })
  .strict()
  .refine((check) => check.statusFrom <= check.statusTo, { path: ['statusTo'], message: 'the highest passing status must not be below the lowest' });
export type ActiveCheck = z.output<typeof ActiveCheckSchema>;

export const PassiveCheckSchema = z
  .object({
    /** Count the proxy's own failures against an upstream. Default: true. */
    enabled: z.boolean().default(true),
    /** Count a 5xx answer as a failure too (connection failures and timeouts always count). Default: false. */
    serverErrors: z.boolean().default(false),
    /** How long a failing upstream is left out; doubles while it keeps failing, up to 5 minutes. Default: 10000. */
    cooldownMs: whole('the cool-down (ms)', 1000, 300_000).default(10_000),
  })
  .strict();
export type PassiveCheck = z.output<typeof PassiveCheckSchema>;

/** The longest a passive cool-down grows to. */
export const MAX_COOLDOWN_MS = 300_000;

export const HealthCheckSchema = z
  .object({
    active: ActiveCheckSchema.default(() => ActiveCheckSchema.parse({})),
    passive: PassiveCheckSchema.default(() => PassiveCheckSchema.parse({})),
  })
  .strict();
export type HealthCheck = z.output<typeof HealthCheckSchema>;

export function defaultHealthCheck(): HealthCheck {
  return HealthCheckSchema.parse({});
}

/** What an app preset says its health check is (Plex: GET /identity). */
export interface PresetCheck {
  path: string;
  statusFrom: number;
  statusTo: number;
  bodyContains: string | null;
}

// ---------------------------------------------------------------------------------------------
// Limits on the connections to one upstream (proxy.upstreamLimits)

export const UpstreamLimitsSchema = z
  .object({
    /** Requests under way to one upstream address at once (one pooled connection each). Default: 256. */
    connections: whole('connections per upstream', 1, 10_000),
    /** Of those, one client address may hold at most this many; its further requests wait. Default: 64. */
    perClient: whole('connections per client', 1, 10_000),
    /** A request waits this long for a connection before a 503 with Retry-After. Default: 10000. */
    waitMs: whole('the wait for a connection (ms)', 0, 600_000),
  })
  .strict()
  .refine((limits) => limits.perClient <= limits.connections, { path: ['perClient'], message: 'connections per client cannot be more than connections per upstream' });
export type UpstreamLimits = z.output<typeof UpstreamLimitsSchema>;

export function defaultUpstreamLimits(): UpstreamLimits {
  return { connections: 256, perClient: 64, waitMs: 10_000 };
}
