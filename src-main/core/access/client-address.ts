// STUB (foundation): the client-address piece. Replaced by the client-address work.
import type { AccessSettings, CallContext } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import { loggedClient } from '../proxy/request-head.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import type { AccessPiece } from './piece.js';

export class ClientAddress implements AccessPiece {
  apply(_settings: AccessSettings): void {}

  passFor(_route: Route, base: Omit<ProvisionedRoute, 'passes'>): RequestPass {
    return {
      name: 'client-address',
      run(request) {
        request.client = loggedClient(request.req, request.peer, base.trusted);
        return undefined;
      },
    };
  }

  /** The API caller's address as the proxy would see it; null in the desktop window. */
  yourAddress(context: CallContext | undefined): string | null {
    return context?.client?.address ?? null;
  }
}
