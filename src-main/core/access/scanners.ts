// STUB (foundation): the scanner probe list and its bans. Replaced by the limits-and-scanners work.
import type { AccessSettings, ActiveBan } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import type { AccessContext } from './context.js';
import type { AccessPiece } from './piece.js';
import type { BanSource } from './reputation.js';

export class ScannerGuard implements AccessPiece, BanSource {
  readonly source = 'scanner' as const;
  constructor(private readonly context: () => AccessContext) {}
  apply(_settings: AccessSettings): void {}
  passFor(_route: Route, _base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    return null;
  }
  banned(_address: string): { reason: string; until: number | null } | null {
    return null;
  }
  /** Bans in force, newest first, at most `limit`. */
  bans(_limit = 100): ActiveBan[] {
    return [];
  }
  /** Lifts the ban on `address`; false when there was none. */
  lift(_address: string): boolean {
    void this.context;
    return false;
  }
}
