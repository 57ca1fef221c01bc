// The client-address piece: who the request is from, as every later pass (access rules, limits,
// sign-in) and the log judge it. The connection's peer (the socket's address, or the one its PROXY
// protocol header gave) is the client unless it is a proxy the route trusts; then the address that
// proxy names is believed (proxy/real-client.ts has the rules and their precedence). The engine logs
// with the same function and the same trusted list, so the logged client is the one judged.
//
// A peer the route does not trust whose request still names another client (X-Forwarded-For,
// CF-Connecting-IP…) is a tunnel or proxy nobody listed: cloudflared or ngrok on this machine
// connects from 127.0.0.1 for every internet visitor. Its address is not believed to be the
// visitor's, and the request is marked `viaUnknownProxy`: outside this network for every later
// pass (the error page already treats it so, error-audience.ts). So is a connection whose PROXY
// header named no client (v1 UNKNOWN, v2 LOCAL). This pass runs on every route: on one that trusts
// nobody it only looks up a few header names.
import type { AccessSettings, CallContext } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import { namesAnotherClient } from '../proxy/error-audience.js';
import type { PassRequest, RequestPass } from '../proxy/passes/pass.js';
import { realClient, TrustedProxies } from '../proxy/real-client.js';
import { proxyNamedNoClient } from '../proxy/request-head.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import type { AccessPiece } from './piece.js';

const NOBODY = new TrustedProxies([]);

/** Marks a request from `peer` (not a trusted proxy) that came through a proxy nobody listed. */
function markUnknownProxy(request: PassRequest): void {
  if (namesAnotherClient(request.req.headers) || proxyNamedNoClient(request.socket)) request.viaUnknownProxy = true;
}

/**
 * What the admin should do about a request marked `viaUnknownProxy`, for a refusal's detail (the
 * log and the admin; the visitor's page stays plain).
 */
export function unknownProxyAdvice(request: PassRequest): string {
  if (proxyNamedNoClient(request.socket)) {
    return `The PROXY protocol header from ${request.peer} named no client (UNKNOWN or LOCAL), so the request counts as from outside this network.`;
  }
  return `A tunnel or proxy at ${request.peer} forwards visitors but is not a trusted proxy: list it under trusted proxies (cloudflared, ngrok and the like on this machine too). Until then its visitors count as outside this network, under one shared limit.`;
}

export class ClientAddress implements AccessPiece {
  /** The global trusted proxies in force (the engine's), for the admin's "your address". */
  private trusted: () => TrustedProxies = () => NOBODY;

  apply(_settings: AccessSettings): void {}

  /** Where the global trusted proxies come from; the gateway points it at the proxy engine's. */
  useTrustedProxies(source: () => TrustedProxies): void {
    this.trusted = source;
  }

  /**
   * On a route that trusts nobody the peer, which the engine already set, is the client; the pass
   * only marks requests from a proxy nobody listed. Behind a trusted proxy it names the client.
   */
  passFor(_route: Route, base: Omit<ProvisionedRoute, 'passes'>): RequestPass {
    const trusted = base.trusted;
    if (trusted.empty) return { name: 'client-address', run: (request) => void markUnknownProxy(request) };
    return {
      name: 'client-address',
      run(request) {
        if (!trusted.has(request.peer)) {
          // realClient would give the peer too; the headers then only say a proxy nobody listed is in front.
          request.client = request.peer;
          markUnknownProxy(request);
        } else {
          request.client = realClient(request.req, request.peer, trusted);
          // A trusted proxy whose PROXY header named no client: whatever it says, nobody vouched for where the connection came from.
          if (proxyNamedNoClient(request.socket)) request.viaUnknownProxy = true;
        }
        return undefined;
      },
    };
  }

  /**
   * The API caller's address as the proxy would see it: the same rules over the admin request's
   * peer and headers, with the global trusted proxies. Null in the desktop window.
   */
  yourAddress(context: CallContext | undefined): string | null {
    const client = context?.client;
    if (!client) return null;
    return realClient(client, client.address, this.trusted());
  }
}
