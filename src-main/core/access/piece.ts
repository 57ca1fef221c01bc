// One part of the access runtime (client address, access rules, scanners, limits, sign-in): it is
// told when the access settings change, and builds its pass for each route when the route table is
// provisioned. A route that does not need a part gets no pass from it, so it costs nothing there.
import type { AccessSettings } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';

export interface AccessPiece {
  /** The access settings changed (or were loaded): rebuild what depends on them. */
  apply(settings: AccessSettings): void;
  /** This route's pass, or null when the route does not need one from this piece. */
  passFor(route: Route, base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null;
  /** Stops timers and closes connections. */
  close?(): void | Promise<void>;
}
