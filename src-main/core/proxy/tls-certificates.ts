// What the proxy engine needs from the certificate side, and nothing more: a certificate per route
// and a neutral one. The engine matches an SNI name to a route with the same table it routes Host
// headers with, then asks for that route's certificate, so a name can only ever get its own route's
// certificate. core/certs implements this and never builds TLS contexts: the engine does, with its
// one TLS policy (versions, ciphers, curves), so no certificate can bring a weaker configuration.
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A certificate ready to serve. The object is immutable and keeps its identity until it is
 * replaced (renewal, import, CA change): the engine caches the TLS context it builds per object.
 */
export interface ServedCertificate {
  /** The leaf first, then its chain (intermediates, leaf's issuer first), PEM. */
  readonly certificatePem: string;
  /** The leaf's private key, PEM. */
  readonly privateKeyPem: string;
}

export interface RouteCertificates {
  /**
   * The route's certificate, or null when it has none it can serve now (no HTTPS, still being
   * issued, expired, failed). Called once per handshake: the answer may change at any time
   * (renewal, import), and the next handshake sees the new one without restarting the listener.
   */
  certificateFor(routeId: string): ServedCertificate | null;
  /**
   * The neutral certificate, for a client without SNI, with a name no route claims, or for a route
   * without a usable certificate. It names no route (it is self-signed, for "Gatehouse"), so the
   * browser warns, and a person who goes on anyway sees Gatehouse's readable error page.
   */
  fallback(): ServedCertificate;
}

/**
 * Pages Gatehouse serves itself on the HTTP listener, such as the CA onboarding page at /ca. The
 * engine offers it every request whose Host matches no route, before answering "no route".
 */
export interface PublicPages {
  /**
   * Answers `req` and returns true when it is one of these pages; false leaves it to the engine.
   * `seesDetails` tells whether this client may see internals (the same rule as error details).
   */
  handle(req: IncomingMessage, res: ServerResponse, seesDetails: () => boolean): boolean;
}

/** Where ACME HTTP-01 challenge tokens are answered: `http://<name>/.well-known/acme-challenge/<token>`. */
export const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';

/**
 * Answers for ACME HTTP-01 challenges (and Gatehouse's own pre-flight probes). The HTTP listener
 * asks before routing, whatever the Host and the route's redirect or access rules, so a CA can
 * validate a name whose route sends HTTP to HTTPS or admits only the LAN. A token it does not know
 * goes on to routing as usual (a service behind may answer its own challenges).
 */
export interface ChallengeAnswers {
  /** The key authorization to send for `token`, or null when the token is not Gatehouse's. */
  answer(token: string): string | null;
}
