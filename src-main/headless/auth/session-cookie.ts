// The session cookie. Over HTTPS it is `__Host-gatehouse-session` with Secure (the prefix makes the
// browser refuse it unless it is Secure, has Path=/ and no Domain, so no other site on the LAN can
// plant or shadow it); over plain HTTP a Secure cookie would never be sent back, so the name has no
// prefix. Always HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { PLAIN_COOKIE_NAME, SECURE_COOKIE_NAME } from '../../core/session-cookie-names.js';

export { PLAIN_COOKIE_NAME, SECURE_COOKIE_NAME };

export function cameOverHttps(request: IncomingMessage): boolean {
  return (request.socket as Partial<TLSSocket>).encrypted === true;
}

export function cookieName(secure: boolean): string {
  return secure ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME;
}

/** At most this many cookies of the session's name are looked up (each costs one hash). */
const MAX_CANDIDATES = 4;

/**
 * The session ids the request carries under the name for its transport, in header order. Not just
 * the first: another site on a sibling port of the same host can set a cookie of this name (cookies
 * ignore ports) whose more specific Path puts it first, and must not sign the owner out by that.
 * Values of the wrong shape are skipped.
 */
export function sessionIdsFrom(request: IncomingMessage): string[] {
  const header = request.headers.cookie;
  if (!header) return [];
  const name = cookieName(cameOverHttps(request));
  const ids: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    if (/^[A-Za-z0-9_-]{43}$/.test(value) && ids.push(value) >= MAX_CANDIDATES) break;
  }
  return ids;
}

/** Set-Cookie for a session id, living until `maxAgeMs` from now (the session's absolute expiry). */
export function sessionCookie(id: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [`${cookieName(secure)}=${id}`, 'HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** Set-Cookie that makes the browser forget the session cookie. */
export function clearedCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
