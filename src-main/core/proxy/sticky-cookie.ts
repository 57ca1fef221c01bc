// The sticky_cookie policy's cookie as the request path handles it: read from the request (the tag
// the balancer pins to), set on the response when the pin is new or moved, and never passed to the
// upstream (it is Gatehouse's, not the service's). The tag itself is opaque: upstreams/balancer.ts
// makes and checks it.
import { STICKY_COOKIE_NAME } from '../../../shared/upstreams.js';

const PREFIX = `${STICKY_COOKIE_NAME}=`;

/** The tag in a Cookie header (joined by "; " when there were several), or null. */
export function stickyTagOf(cookie: string | string[] | undefined): string | null {
  if (cookie === undefined) return null;
  const header = Array.isArray(cookie) ? cookie.join('; ') : cookie;
  if (!header.includes(PREFIX)) return null;
  for (const part of header.split(';')) {
    const pair = part.trim();
    if (pair.startsWith(PREFIX)) return pair.slice(PREFIX.length) || null;
  }
  return null;
}

/**
 * Takes our cookie out of the Cookie fields of a flat [name, value, …] upstream header list, in
 * place; a field that held nothing else goes. Nearly every request lacks it and costs one scan.
 */
export function stripStickyCookie(headers: string[]): void {
  for (let i = 0; i < headers.length; i += 2) {
    const value = headers[i + 1] as string;
    if (!value.includes(PREFIX) || (headers[i] as string).toLowerCase() !== 'cookie') continue;
    const kept = value
      .split(';')
      .map((part) => part.trim())
      .filter((pair) => pair !== '' && !pair.startsWith(PREFIX))
      .join('; ');
    if (kept === '') {
      headers.splice(i, 2);
      i -= 2;
    } else headers[i + 1] = kept;
  }
}

/** The Set-Cookie value pinning the browser to `tag`; Secure when the request came over HTTPS. */
export function stickyCookie(tag: string, secure: boolean): string {
  return `${PREFIX}${tag}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Adds our Set-Cookie after the upstream's own (never replacing them) in a response head. */
export function appendSetCookie(headers: Record<string, string | string[]>, value: string): void {
  const existing = headers['set-cookie'];
  if (existing === undefined) headers['set-cookie'] = [value];
  else headers['set-cookie'] = Array.isArray(existing) ? [...existing, value] : [existing, value];
}
