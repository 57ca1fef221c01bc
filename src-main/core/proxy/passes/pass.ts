// The request path after a route matched, as an ordered list of small named passes:
//   client address → access (lists, exposure, country, reputation) → scanners → limits → sign-in
// and then the upstream. Each pass is provisioned once per settings change (RouteTable asks
// `passesFor` for each route) and run per request; it answers "go on" (undefined), a refusal (a
// ProxyError with its code, status, plain reason and the rule that matched), or ANSWERED when it
// wrote the response itself (a forward-auth server's redirect to its login page). A pass that is
// off for a route is simply not in the route's list, so it costs nothing.
//
// Requests and WebSocket upgrades run the same list: a pass sees a PassRequest, which engine.ts
// builds from a request's Exchange and upgrade-path.ts from an upgrade's raw socket.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Route } from '../../../../shared/model.js';
import { ProxyError } from '../errors.js';
import type { RequestTarget } from '../request-head.js';
import type { ProvisionedRoute } from '../route-table.js';

/** The response a pass wrote itself; the engine forwards nothing. */
export const ANSWERED = Symbol('answered');

export type PassOutcome = undefined | ProxyError | typeof ANSWERED;

/** What a pass may read and record about one request. */
export interface PassRequest {
  readonly req: IncomingMessage;
  /** The connection's peer: the socket's address, or the PROXY protocol header's. */
  readonly peer: string;
  /** The client's real address: `peer`, or what a trusted proxy in front said. Set by the client-address pass. */
  client: string;
  /**
   * The request came through a proxy Gatehouse was not told about: its peer is not a trusted proxy
   * for the route yet its headers name another client (cloudflared, ngrok or Tailscale Funnel on
   * this machine, a LAN router's forwarding helper), or its PROXY header named no client. Its
   * peer's address (loopback, a LAN box) says nothing about the visitor, so exposure, the limits,
   * the scanner list and bans judge it as outside this network and this machine's own networks;
   * its counters stay keyed by `client` (the peer), as headers anyone can write must not mint
   * fresh budgets. Set by the client-address pass; default false (absent).
   */
  viaUnknownProxy?: boolean;
  /** Arrived on the HTTPS listener. */
  readonly secure: boolean;
  /** A WebSocket (or other) upgrade, not a plain request. */
  readonly upgrade: boolean;
  readonly target: RequestTarget;
  readonly route: ProvisionedRoute;
  /** The connection: passes key per-connection state on it. */
  readonly socket: Socket;
  /** The rule that refused or admitted the request, for the log. */
  rule: string | null;
  /** Who signed in, for the log and the Remote-User header. */
  user: string | null;
  /**
   * Headers to set on the request sent upstream, as [name, value, …]; any client-sent header of
   * the same name is removed first (a client cannot pose as Remote-User); a pair whose value is ''
   * only removes. Default: none.
   */
  upstreamSet: string[] | null;
  /** Largest request body to pass on, in bytes; 0 = no limit. Set by the limits pass. */
  maxBodyBytes: number;
  /**
   * Answers with exactly this status, headers and body (a forward-auth server's 302 or 401, passed
   * on as it came). The pass then returns ANSWERED.
   */
  respond(status: number, headers: Record<string, string | string[]>, body: Buffer | string): void;
}

export type PassName = 'client-address' | 'access' | 'scanners' | 'limits' | 'sign-in';

export interface RequestPass {
  readonly name: PassName;
  run(request: PassRequest): PassOutcome | Promise<PassOutcome>;
}

/** Builds a route's passes when the route table is provisioned; `base` is the route without them. */
export type PassFactory = (route: Route, base: Omit<ProvisionedRoute, 'passes'>) => RequestPass[];

/** A factory for an engine with no access settings: no passes beyond the client address. */
export const noPasses: PassFactory = () => [];

/**
 * Runs `passes` in order and calls `done` once with the first outcome that is not "go on" (or
 * undefined when every pass let the request through). Synchronous while the passes are: a request
 * whose passes are all in-memory checks never waits for a tick.
 */
export function runPasses(passes: readonly RequestPass[], request: PassRequest, done: (outcome: PassOutcome) => void): void {
  for (let i = 0; i < passes.length; i++) {
    let outcome: PassOutcome | Promise<PassOutcome>;
    try {
      outcome = (passes[i] as RequestPass).run(request);
    } catch (error) {
      return done(passFailure(passes[i] as RequestPass, error));
    }
    if (outcome === undefined) continue;
    if (outcome instanceof Promise) {
      const rest = passes.slice(i + 1);
      outcome.then(
        (result) => (result === undefined ? runPasses(rest, request, done) : done(result)),
        (error: unknown) => done(passFailure(passes[i] as RequestPass, error)),
      );
      return;
    }
    return done(outcome);
  }
  done(undefined);
}

/** A pass that threw: a refusal it meant, or a bug that must not let the request through. */
function passFailure(pass: RequestPass, error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  console.error(`gatehouse: the ${pass.name} pass failed:`, error);
  // Fail closed: a broken access or sign-in check must not open the door.
  return new ProxyError('sign_in_unavailable', `Gatehouse's ${pass.name} check failed unexpectedly (${(error as Error)?.message ?? error}); the request was refused rather than let through.`, { rule: `${pass.name}: internal error` });
}
