// STUB (foundation): basic auth users and forward auth. Replaced by the sign-in work.
import type { AccessSettings, AccessUser, ForwardAuthPreset } from '../../../shared/access.js';
import { ApiError } from '../../../shared/api.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import type { AccessContext } from './context.js';
import type { AccessPiece } from './piece.js';

export const FORWARD_AUTH_PRESETS: readonly ForwardAuthPreset[] = [];

export class SignInGuard implements AccessPiece {
  constructor(private readonly context: () => AccessContext) {}
  /** Reads the users file from the data directory. */
  async load(): Promise<void> {
    void this.context;
  }
  apply(_settings: AccessSettings): void {}
  passFor(_route: Route, _base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    return null;
  }
  users(): AccessUser[] {
    return [];
  }
  async addUser(_name: string, _password: string): Promise<AccessUser> {
    throw new ApiError('internal', 'sign-in users are not built yet');
  }
  async setPassword(_name: string, _password: string): Promise<AccessUser> {
    throw new ApiError('internal', 'sign-in users are not built yet');
  }
  async removeUser(_name: string): Promise<AccessUser> {
    throw new ApiError('internal', 'sign-in users are not built yet');
  }
}
