// What the proxy engine needs from the certificate side, and nothing more: a TLS context per route
// and a neutral one. The engine matches an SNI name to a route with the same table it routes Host
// headers with, then asks for that route's context, so a name can only ever get its own route's
// certificate. core/certs implements this; the engine never reads a key file itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContext } from 'node:tls';

export interface RouteCertificates {
  /**
   * The TLS context with the route's certificate (and chain), or null when the route has none it
   * can serve now (no HTTPS, still being issued, expired, failed). Called once per handshake: the
   * answer may change at any time (renewal, import), and the next handshake sees the new one.
   */
  contextFor(routeId: string): SecureContext | null;
  /**
   * The neutral certificate, for a client without SNI, with a name no route claims, or for a route
   * without a usable certificate. It names no route (it is self-signed, for "Gatehouse"), so the
   * browser warns, and a person who goes on anyway sees Gatehouse's readable error page.
   */
  fallback(): SecureContext;
}

/**
 * Pages Gatehouse serves itself on the HTTP listener, such as the CA onboarding page at /ca. The
 * engine offers it every request whose Host matches no route, before answering "no route".
 */
export interface PublicPages {
  /** Answers `req` and returns true when it is one of these pages; false leaves it to the engine. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}
