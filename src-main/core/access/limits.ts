// STUB (foundation): per-client request rates, login limits and body limits. Replaced by the limits-and-scanners work.
import type { AccessSettings } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import type { AccessContext } from './context.js';
import type { AccessPiece } from './piece.js';

export class ClientLimits implements AccessPiece {
  constructor(private readonly context: () => AccessContext) {}
  apply(_settings: AccessSettings): void {
    void this.context;
  }
  passFor(_route: Route, _base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    return null;
  }
}
