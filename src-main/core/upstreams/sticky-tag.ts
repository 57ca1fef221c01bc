// The sticky cookie's value: an opaque tag per (route, upstream), so the cookie a browser holds
// names no address (a visitor must never learn a LAN address) and a tag copied from one route
// means nothing on another. HMAC-SHA256 under the engine's sticky key of `routeId \n url`,
// base64url, first 16 characters (96 bits). Tags are computed once per settings change, when a
// route is provisioned; a request only compares strings. They are not secrets (the client holds
// its own), so a plain comparison is fine; what matters is that only the current route's tags are
// ever honoured.
import { createHmac } from 'node:crypto';
import { STICKY_COOKIE_NAME } from '../../../shared/upstreams.js';

export const STICKY_TAG_LENGTH = 16;

export function stickyTag(key: Buffer, routeId: string, url: string): string {
  return createHmac('sha256', key).update(`${routeId}\n${url}`).digest('base64url').slice(0, STICKY_TAG_LENGTH);
}

/** A route's tags, in its upstreams' order, and the way back from a tag to its upstream. */
export class StickyTags {
  readonly tags: readonly string[];
  private readonly indexes: ReadonlyMap<string, number>;

  constructor(key: Buffer, routeId: string, urls: readonly string[]) {
    this.tags = urls.map((url) => stickyTag(key, routeId, url));
    this.indexes = new Map(this.tags.map((tag, i) => [tag, i]));
  }

  /** The upstream `tag` names on this route, or -1 (no tag, another route's, a removed upstream's, forged). */
  indexOf(tag: string | null): number {
    return tag === null ? -1 : (this.indexes.get(tag) ?? -1);
  }
}

const TAG_SHAPE = /^[A-Za-z0-9_-]{16}$/;
const COOKIE_PREFIX = `${STICKY_COOKIE_NAME}=`;

/**
 * The sticky tag in a request's Cookie header(s), or null. Only the first `gatehouse_upstream`
 * cookie counts; a value that is not tag-shaped is ignored (the Balancer then re-pins the client).
 * Reads without splitting the header, so a long Cookie header costs one scan and no garbage.
 */
export function readStickyTag(cookie: string | readonly string[] | undefined): string | null {
  if (cookie === undefined) return null;
  if (typeof cookie !== 'string') {
    for (const line of cookie) {
      const tag = readStickyTag(line);
      if (tag !== null) return tag;
    }
    return null;
  }
  let at = cookie.indexOf(COOKIE_PREFIX);
  while (at >= 0) {
    // A match inside another cookie's name ("x_gatehouse_upstream=") or value does not count.
    if (at === 0 || cookie[at - 1] === ' ' || cookie[at - 1] === ';') {
      const start = at + COOKIE_PREFIX.length;
      const semicolon = cookie.indexOf(';', start);
      const value = cookie.slice(start, semicolon < 0 ? cookie.length : semicolon).trim();
      return TAG_SHAPE.test(value) ? value : null;
    }
    at = cookie.indexOf(COOKIE_PREFIX, at + 1);
  }
  return null;
}

/**
 * The Set-Cookie value that pins a browser to the upstream `tag` names: for the whole host
 * (Path=/), out of scripts' reach (HttpOnly), sent on top-level navigation from elsewhere
 * (SameSite=Lax), over HTTPS only when the request came that way (Secure), and for the browser
 * session (no Max-Age: a pin is worth keeping only while the session on that server lives).
 */
export function stickyCookie(tag: string, secure: boolean): string {
  return `${STICKY_COOKIE_NAME}=${tag}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
