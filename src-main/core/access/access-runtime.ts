// Who may reach each service, at run time: the pieces that judge a request (client address, access
// rules, scanners, limits, sign-in) and the sources of bans (CrowdSec, scanners), built from the
// access settings and rebuilt when they change. The proxy engine asks `passesFor` for each route's
// passes when it provisions a route table; the gateway asks `overview` for the Access page.
import type { AccessOverview, AccessSettings, CallContext } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import type { OwnNetworks } from '../net/own-networks.js';
import type { PassFactory, RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import { AccessRules } from './access-rules.js';
import { ClientAddress } from './client-address.js';
import type { AccessContext } from './context.js';
import { CrowdsecBouncer } from './crowdsec.js';
import { ClientLimits } from './limits.js';
import type { AccessPiece } from './piece.js';
import { Reputation } from './reputation.js';
import { ScannerGuard } from './scanners.js';
import { FORWARD_AUTH_PRESETS, SignInGuard } from './sign-in.js';

export interface AccessRuntimeOptions {
  dataDir: string;
  ownNetworks: OwnNetworks;
  settings: AccessSettings;
  /** Told when something the Access page shows changed by itself (CrowdSec's state, a new ban). */
  onChange?: () => void;
}

export class AccessRuntime {
  readonly reputation = new Reputation();
  readonly clientAddress: ClientAddress;
  readonly rules: AccessRules;
  readonly scanners: ScannerGuard;
  readonly limits: ClientLimits;
  readonly signIn: SignInGuard;
  readonly crowdsec: CrowdsecBouncer;
  private settings: AccessSettings;
  /** In the order a request meets them (passes/pass.ts). */
  private readonly pieces: readonly AccessPiece[];
  readonly context: () => AccessContext;

  private constructor(private readonly options: AccessRuntimeOptions) {
    this.settings = options.settings;
    const context: AccessContext = {
      get settings() {
        return runtime.settings;
      },
      ownNetworks: options.ownNetworks,
      reputation: this.reputation,
      dataDir: options.dataDir,
    };
    const runtime = this;
    this.context = () => context;
    const onChange = () => options.onChange?.();
    this.clientAddress = new ClientAddress();
    this.rules = new AccessRules(this.context, onChange);
    this.scanners = new ScannerGuard(this.context, onChange);
    this.limits = new ClientLimits(this.context);
    this.signIn = new SignInGuard(this.context);
    this.crowdsec = new CrowdsecBouncer(this.context, onChange);
    this.reputation.add(this.crowdsec);
    this.reputation.add(this.scanners);
    this.pieces = [this.clientAddress, this.rules, this.scanners, this.limits, this.signIn];
  }

  /** Builds the runtime and reads its secrets (users, the CrowdSec key) from the data directory. */
  static async open(options: AccessRuntimeOptions): Promise<AccessRuntime> {
    const runtime = new AccessRuntime(options);
    await runtime.signIn.load();
    await runtime.crowdsec.load();
    runtime.apply(options.settings);
    return runtime;
  }

  /** A restore replaced the users file and the CrowdSec key: read them again (apply follows with the settings). */
  async reloadSecrets(): Promise<void> {
    await this.signIn.load();
    await this.crowdsec.load();
  }

  /** The access settings changed (or an import replaced them): every piece rebuilds. */
  apply(settings: AccessSettings): void {
    this.settings = settings;
    for (const piece of this.pieces) piece.apply(settings);
    this.crowdsec.apply(settings);
  }

  /** Each route's passes, in the request path's order. */
  readonly passesFor: PassFactory = (route: Route, base: Omit<ProvisionedRoute, 'passes'>) => {
    const passes: RequestPass[] = [];
    for (const piece of this.pieces) {
      const pass = piece.passFor(route, base);
      if (pass) passes.push(pass);
    }
    return passes;
  };

  /** What the Access page shows; `context` says who asks (for "your address"). */
  overview(context?: CallContext): AccessOverview {
    const yourAddress = this.clientAddress.yourAddress(context);
    return {
      yourAddress,
      yourAddressIsLan: yourAddress === null ? null : this.rules.isLan(yourAddress),
      lists: structuredClone(this.settings.lists),
      providers: structuredClone(this.settings.providers),
      presets: structuredClone([...FORWARD_AUTH_PRESETS]),
      users: this.signIn.users(),
      crowdsec: this.crowdsec.status(),
      countryDatabase: this.rules.countryDatabase(),
      scannerBans: this.scanners.bans(100),
    };
  }

  async close(): Promise<void> {
    for (const piece of this.pieces) await piece.close?.();
    this.crowdsec.close();
  }
}
