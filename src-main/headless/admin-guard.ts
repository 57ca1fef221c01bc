// The first look at every admin request, before sign-in, the API or a static file: it must be for
// one of this machine's hosts (DNS rebinding), and a request that changes something must come from
// a page of this admin, not from another site a signed-in browser happens to show (CSRF). Scripts
// and curl send no Origin and pass; they still need the token or a session after this.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AdminHosts } from './admin-hosts.js';
import { HttpFailure } from './http-failure.js';

/** Methods that change state; the rest only read, and a cross-site read gets nothing it may read. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What is quoted back of a header the client sent: enough to recognise it, never a page of it. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

/** null when the request may go on; otherwise the refusal to send as it is. */
export function guardRequest(request: IncomingMessage, allowed: AdminHosts): HttpFailure | null {
  const host = request.headers.host;
  if (!allowed.allowsHost(host)) {
    const what = host === undefined ? 'The request has no Host header' : `This Gatehouse admin does not answer to the host ${quoted(host)}`;
    return new HttpFailure(
      421,
      'forbidden',
      `${what}. It answers only to this machine's own names and addresses, so that no other web site can reach it through a name ` +
        `that points here (DNS rebinding). If that name belongs to this machine, add it in Settings → admin.allowedHosts.`,
    );
  }
  if (!STATE_CHANGING.has(request.method ?? 'GET')) return null;
  if (request.headers['sec-fetch-site'] === 'cross-site') {
    return new HttpFailure(403, 'forbidden', 'The browser says this request was sent by another web site, and other sites cannot change Gatehouse. Make the change from the Gatehouse admin itself.');
  }
  const origin = request.headers.origin;
  const scheme = (request.socket as TLSSocket).encrypted ? 'https:' : 'http:';
  if (origin !== undefined && !allowed.allowsOrigin(origin, scheme)) {
    return new HttpFailure(
      403,
      'forbidden',
      `This request was sent by a page at ${quoted(origin)}, not by this Gatehouse admin, and other pages cannot change Gatehouse. ` +
        `Make the change from the admin itself; a script should send no Origin header, only the bearer token.`,
    );
  }
  return null;
}
