// STUB (foundation): access lists, exposure, country rules and reputation. Replaced by the access-rules work.
import type { AccessSettings, AccessVerdict, CountryDatabaseInfo } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import type { AccessContext } from './context.js';
import type { AccessPiece } from './piece.js';

export class AccessRules implements AccessPiece {
  constructor(private readonly context: () => AccessContext) {}

  apply(_settings: AccessSettings): void {}

  passFor(_route: Route, _base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    return null;
  }

  /** Would `address` get into `route`, and why. */
  verdict(route: Route, address: string): AccessVerdict {
    return { address, routeId: route.id, admitted: true, lan: this.context().ownNetworks.isOwnNetwork(address), country: null, steps: [], signIn: route.access.signIn.method };
  }

  countryDatabase(): CountryDatabaseInfo | null {
    return null;
  }
}
