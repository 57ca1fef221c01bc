// The client-address piece: who the request is from, as every later pass (access rules, limits,
// sign-in) and the log judge it. The connection's peer (the socket's address, or the one its PROXY
// protocol header gave) is the client unless it is a proxy the route trusts; then the address that
// proxy names is believed (proxy/real-client.ts has the rules and their precedence). The engine logs
// with the same function and the same trusted list, so the logged client is the one judged.
import type { AccessSettings, CallContext } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import { realClient, TrustedProxies } from '../proxy/real-client.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import type { AccessPiece } from './piece.js';

const NOBODY = new TrustedProxies([]);

export class ClientAddress implements AccessPiece {
  /** The global trusted proxies in force (the engine's), for the admin's "your address". */
  private trusted: () => TrustedProxies = () => NOBODY;

  apply(_settings: AccessSettings): void {}

  /** Where the global trusted proxies come from; the gateway points it at the proxy engine's. */
  useTrustedProxies(source: () => TrustedProxies): void {
    this.trusted = source;
  }

  /** No pass on a route that trusts nobody: the peer, which the engine already set, is the client. */
  passFor(_route: Route, base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    const trusted = base.trusted;
    if (trusted.empty) return null;
    return {
      name: 'client-address',
      run(request) {
        request.client = realClient(request.req, request.peer, trusted);
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
