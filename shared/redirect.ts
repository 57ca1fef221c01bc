// A redirect route: instead of forwarding to upstreams, it answers every request (after its access
// passes) with a 3xx and `Location` = the target base, followed by the request's path and query
// when `keepPath` is on. What Nginx Proxy Manager calls a "redirection host"; docs/redirects.md.
//
// Open-redirect safety: the target's scheme and host are fixed by whoever saved the route. The
// request's path is only ever appended after the target's own path (always starting with "/"), so
// a path like `//evil.example` or `@evil.example` cannot change the host a browser goes to.
// Imports nothing but zod: this file is bundled into the renderer.
import { z } from 'zod';

/** The statuses a redirect route answers with: permanent (301, 308) or temporary (302, 307). */
export const REDIRECT_STATUSES = [301, 302, 307, 308] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];

/**
 * Normalizes a redirect target: an absolute http(s) URL, optionally with a path
 * ("https://new.example", "https://new.example/app"). No query, fragment or credentials; a trailing
 * "/" is dropped so the request's path joins cleanly. Returns the problem instead when it cannot be.
 */
export function parseRedirectTarget(input: string): { url: string } | { problem: string } {
  const text = input.trim();
  if (text === '') return { problem: 'enter the address to redirect to, such as https://new.example' };
  if (!/^https?:\/\//i.test(text)) return { problem: `"${text}" must start with http:// or https://, such as https://new.example` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `"${text}" is not an address; write it as https://new.example or https://new.example/app` };
  }
  if (!url.hostname) return { problem: `"${text}" has no host` };
  if (url.username || url.password) return { problem: `"${text}" contains a user name or password; a redirect target cannot carry credentials` };
  if (url.search || url.hash || text.includes('?') || text.includes('#')) return { problem: `"${text}" has a query or fragment; give only the scheme, host and an optional path` };
  const path = url.pathname.replace(/\/+$/, '');
  return { url: `${url.protocol}//${url.host}${path}` };
}

export const RedirectTargetSchema = z.string({ error: 'enter the address to redirect to, such as https://new.example' }).max(2000, 'a redirect address has at most 2000 characters').transform((value, ctx) => {
  const parsed = parseRedirectTarget(value);
  if ('problem' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.url;
});

export const RouteRedirectSchema = z
  .object({
    /** The absolute http(s) base the client is sent to (normalized, no trailing "/"). */
    to: RedirectTargetSchema,
    /** 301 (permanent, the default, what NPM uses by default), 302, 307 or 308. */
    status: z.union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)], { error: 'a redirect status is 301, 302, 307 or 308' }).default(301),
    /** Append the request's path and query to `to`. Default: true. */
    keepPath: z.boolean().default(true),
  })
  .strict();
export type RouteRedirect = z.output<typeof RouteRedirectSchema>;

/**
 * Where a redirect route sends a request for `requestPath` (origin-form path and query, as the
 * client sent it). The path is appended after the target's own path, never in place of the host.
 */
export function redirectLocation(redirect: { to: string; keepPath: boolean }, requestPath: string): string {
  if (!redirect.keepPath) return redirect.to === '' ? '/' : hasPath(redirect.to) ? redirect.to : `${redirect.to}/`;
  let path = requestPath === '*' ? '/' : requestPath;
  // Only origin-form reaches here, but be strict: anything not starting with "/" gets one, so no
  // "@host" or ":port" can join the authority.
  if (!path.startsWith('/')) path = `/${path}`;
  // A header value cannot hold control characters; the parser refused them already, but a
  // Location is never the place to find out.
  path = path.replace(/[\u0000-\u001f\u007f]/g, (c) => encodeURIComponent(c));
  return `${redirect.to}${path}`;
}

function hasPath(url: string): boolean {
  return url.indexOf('/', url.indexOf('://') + 3) !== -1;
}
