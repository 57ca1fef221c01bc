// Which failed attempts of a request may be tried again on another upstream (see docs/balancing.md).
// Only failures where the upstream cannot have acted on the request: the connection was never made
// (any method), or — for a method that may safely run twice (RFC 9110 §9.2.2) — the upstream closed
// before any of its answer reached the client. Never once a request body byte was handed on: the
// body is streamed, not kept, so it could not be sent again, and the service may have acted on it.
import { upstreamFailure, type ProxyErrorCode } from '../proxy/errors.js';

/** Failures before the connection existed: nothing was sent. */
const NOT_CONNECTED: ReadonlySet<ProxyErrorCode> = new Set(['upstream_refused', 'upstream_unreachable', 'upstream_dns', 'upstream_connect_timeout', 'upstream_tls']);

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export interface AttemptState {
  /** The request's method. */
  readonly method: string;
  /** undici asked for the request body (a byte of it may be on its way). */
  readonly bodyPulled: boolean;
  /** Any byte of the answer was written to the client. */
  readonly answered: boolean;
}

/** True when the attempt that failed with `error` may be tried on another upstream. */
export function retryable(error: unknown, attempt: AttemptState): boolean {
  if (attempt.bodyPulled || attempt.answered) return false;
  const code = upstreamFailure(error, '', '').code;
  if (NOT_CONNECTED.has(code)) return true;
  return code === 'upstream_reset' && IDEMPOTENT.has(attempt.method);
}

/** The detail of the failure that ends a request after `tried` upstreams, saying how many. */
export function withTriedCount(detail: string, tried: number): string {
  if (tried < 2) return detail;
  return detail.endsWith('.') ? `${detail.slice(0, -1)}; tried ${tried} upstreams.` : `${detail} (tried ${tried} upstreams)`;
}
