// Sign-in in front of a route, the last pass before the service: basic auth against Gatehouse's
// own sign-in users (basic-auth.ts, access-users.ts), or forward auth to a sign-in server such as
// Authelia (forward-auth.ts). A route with sign-in "none" gets no pass.
//
// A route's basic-auth user list may name a user who does not exist (yet, or any more): saving is
// allowed — users are secrets kept apart from the settings, and an import or a restored settings
// file must not be refused for them — and that name simply cannot sign in until a user of that
// name is added. The same holds when a user is removed. docs/sign-in.md says so.
import type { AccessSettings, AccessUser } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import { AccessUsers } from './access-users.js';
import { basicAuthPass, FailureLimiter } from './basic-auth.js';
import type { AccessContext } from './context.js';
import { ForwardAuthClients, forwardAuthPass } from './forward-auth.js';
import type { AccessPiece } from './piece.js';

export { FORWARD_AUTH_PRESETS } from './forward-auth.js';

export class SignInGuard implements AccessPiece {
  private accessUsers: AccessUsers | null = null;
  private readonly failures = new FailureLimiter();
  private readonly providers = new ForwardAuthClients();

  constructor(private readonly context: () => AccessContext) {}

  private get store(): AccessUsers {
    return (this.accessUsers ??= new AccessUsers(this.context().dataDir));
  }

  /** Reads the users file from the data directory. */
  async load(): Promise<void> {
    await this.store.load();
  }

  /** Opens a pool per forward-auth provider; closes the pools of providers changed or removed. */
  apply(settings: AccessSettings): void {
    this.providers.apply(settings.providers);
  }

  passFor(route: Route, base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    const signIn = route.access.signIn;
    switch (signIn.method) {
      case 'none':
        return null;
      case 'basic':
        return basicAuthPass(base.title, signIn.users, this.store, this.failures);
      case 'forward':
        return forwardAuthPass(base.title, signIn.providerId, this.providers);
    }
  }

  users(): AccessUser[] {
    return this.store.list();
  }

  addUser(name: string, password: string): Promise<AccessUser> {
    return this.store.add(name, password);
  }

  setPassword(name: string, password: string): Promise<AccessUser> {
    return this.store.setPassword(name, password);
  }

  removeUser(name: string): Promise<AccessUser> {
    return this.store.remove(name);
  }

  async close(): Promise<void> {
    await this.providers.close();
  }
}
