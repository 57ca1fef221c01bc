// The "access" pass: access lists, exposure, country rules and reputation, in the order documented
// at the top of shared/access.ts and in docs/access.md. Lists are compiled once per settings change
// (apply), each route's rules once per route-table build (passFor); a request is one binary search
// in the route's lists and, on routes open to this network only, one in the private ranges.
// "Would this address get in, and why" (verdict) runs the very same judge, told to record its steps.
import type { AccessSettings, AccessStep, AccessVerdict, CountryDatabaseInfo, RouteAccess } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import { ProxyError } from '../proxy/errors.js';
import type { PassOutcome, PassRequest, RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import { unknownProxyAdvice } from './client-address.js';
import type { AccessContext } from './context.js';
import { CountryDatabase } from './countries.js';
import type { AccessPiece } from './piece.js';
import { compileList, NEEDS_COUNTRIES, RouteJudge, type CompiledList, type JudgeDeps, type Judgement } from './route-judge.js';
import { ThisNetwork } from './this-network.js';

/** What a judgement means for the request: go on (noting a list's "allow" for the log), or refuse. */
function outcomeOf(request: PassRequest, judgement: Judgement): PassOutcome {
  if (judgement === null) return undefined;
  if (typeof judgement === 'string') {
    request.rule = judgement;
    return undefined;
  }
  if (judgement === NEEDS_COUNTRIES) {
    // load() has settled, so the database is read or failed: this cannot happen; refuse rather than guess.
    return new ProxyError('country_denied', 'The country database was not ready for this request.', { rule: 'country: database unavailable' });
  }
  // Through a proxy nobody listed, the refusal may well be the admin's own tunnel: say what to do.
  if (request.viaUnknownProxy === true) return new ProxyError(judgement.code, `${judgement.detail} ${unknownProxyAdvice(request)}`, judgement.refusal);
  return judgement;
}

function missingList(id: string): CompiledList {
  const deny = (range: string) => ({ action: 'deny' as const, range, note: 'the list is missing' });
  return compileList({ id, name: `missing list ${id}`, entries: [deny('0.0.0.0/0'), deny('::/0')] });
}

/** The part of a route's (or a stream's) access that judges by address alone. */
export type ConnectionAccess = Pick<RouteAccess, 'exposure' | 'lists' | 'countries'>;

export class AccessRules implements AccessPiece {
  private lists = new Map<string, CompiledList>();
  /** Each compiled list's settings, as JSON: what apply() compares to skip unchanged lists. */
  private listKeys = new Map<string, string>();
  readonly countries: CountryDatabase;
  private network: ThisNetwork | null = null;
  private readonly deps: JudgeDeps;

  constructor(
    private readonly context: () => AccessContext,
    /** Told when something the Access page shows changed by itself (the country database was read). */
    onChange: () => void = () => {},
    countries?: CountryDatabase,
  ) {
    this.countries = countries ?? new CountryDatabase(undefined, onChange);
    const rules = this;
    this.deps = {
      get thisNetwork() {
        return rules.thisNetwork;
      },
      countries: this.countries,
      get reputation() {
        return rules.context().reputation;
      },
      crowdsecAppliesToLan: () => this.context().settings.crowdsec.applyToLan,
      isOwnNetwork: (address) => this.context().ownNetworks.isOwnNetwork(address),
    };
  }

  /** This machine's networks, as exposure, countries and bans count them. */
  get thisNetwork(): ThisNetwork {
    this.network ??= new ThisNetwork(this.context().ownNetworks);
    return this.network;
  }

  /**
   * The access settings changed (or were loaded): compile the lists that changed; the route table
   * is rebuilt right after, so every route's next request sees them.
   */
  apply(settings: AccessSettings): void {
    const lists = new Map<string, CompiledList>();
    const keys = new Map<string, string>();
    for (const list of settings.lists) {
      // Any access change (CrowdSec, another list) comes here: an unchanged list is not compiled again.
      const key = JSON.stringify(list);
      const known = this.listKeys.get(list.id) === key ? this.lists.get(list.id) : undefined;
      lists.set(list.id, known ?? compileList(list));
      keys.set(list.id, key);
    }
    this.lists = lists;
    this.listKeys = keys;
    // A database that could not be read is tried again after a settings change.
    this.countries.retry();
  }

  /** The route's rules, compiled: the same for the pass and for verdict. */
  private judgeFor(route: Route): RouteJudge {
    return this.judgeOf(route.access);
  }

  private judgeOf(access: ConnectionAccess): RouteJudge {
    const lists: CompiledList[] = [];
    for (const id of access.lists) {
      // The settings schema refuses a route naming a list that does not exist. Were one missing all
      // the same, it refuses everyone (and says so in the log) rather than open the route.
      lists.push(this.lists.get(id) ?? missingList(id));
    }
    return new RouteJudge(access, lists, this.deps);
  }

  /**
   * Judges connections (a stream's, a passed-through route's) by address alone: lists, exposure,
   * countries and bans, in the request path's order. The judge follows access-list changes by
   * itself (it recompiles when apply() replaced the lists). A ProxyError is a refusal (its
   * `refusal.rule` names the rule for the log), a string an allowing list entry, null admitted.
   */
  connectionJudge(access: ConnectionAccess): (address: string) => Exclude<Judgement, typeof NEEDS_COUNTRIES> | Promise<Exclude<Judgement, typeof NEEDS_COUNTRIES>> {
    let judge: RouteJudge | null = null;
    let compiledWith: Map<string, CompiledList> | null = null;
    return (address) => {
      if (compiledWith !== this.lists || judge === null) {
        judge = this.judgeOf(access);
        compiledWith = this.lists;
        if (judge.usesCountries) void this.countries.load();
      }
      const current = judge;
      const judgement = current.judge(address, null);
      if (judgement !== NEEDS_COUNTRIES) return judgement;
      return this.countries.load().then(() => {
        const again = current.judge(address, null);
        // Still unread (the database failed): refuse like a country rule would rather than let in.
        return again === NEEDS_COUNTRIES ? new ProxyError('country_denied', 'The country database could not be read, and the rules ask for a country.', { rule: 'countries' }) : again;
      });
    };
  }

  passFor(route: Route, _base: Omit<ProvisionedRoute, 'passes'>): RequestPass {
    const judge = this.judgeFor(route);
    const countries = this.countries;
    // Read in the background now, so the first request from outside rarely waits for it.
    if (judge.usesCountries) void countries.load();
    return {
      name: 'access',
      run(request) {
        const outsider = request.viaUnknownProxy === true;
        const judgement = judge.judge(request.client, null, outsider);
        if (judgement !== NEEDS_COUNTRIES) return outcomeOf(request, judgement);
        return countries.load().then(() => outcomeOf(request, judge.judge(request.client, null, outsider)));
      },
    };
  }

  /** Whether `address` counts as this network (loopback, private, link-local, ULA, this machine's subnets). */
  isLan(address: string): boolean {
    return this.thisNetwork.has(address);
  }

  /** Would `address` get into `route`, and why: the request path's own judge, step by step. */
  async verdict(route: Route, address: string): Promise<AccessVerdict> {
    await this.countries.load();
    const steps: AccessStep[] = [];
    const judgement = this.judgeFor(route).judge(address, steps);
    const admitted = !(judgement instanceof ProxyError) && judgement !== NEEDS_COUNTRIES;
    const lan = this.thisNetwork.has(address);
    steps.push(this.limitsStep(route, lan, admitted), this.signInStep(route, admitted));
    return { address, routeId: route.id, admitted, lan, country: lan ? null : this.countries.lookup(address.replace(/^::ffff:(?=\d+\.)/i, '')), steps, signIn: this.signInName(route) };
  }

  /** Where the country data comes from; null until it is read (asking starts the read). */
  countryDatabase(): CountryDatabaseInfo | null {
    if (this.countries.state === 'unread') void this.countries.load();
    return this.countries.info();
  }

  private limitsStep(route: Route, lan: boolean, admitted: boolean): AccessStep {
    const limits = route.access.limits;
    if (!admitted) return { step: 'limits', outcome: 'skip', rule: null, reason: 'refused before this step' };
    if (lan && !limits.limitLan) return { step: 'limits', outcome: 'skip', rule: null, reason: 'addresses on this network are not limited' };
    const parts = [
      limits.requestsPerMinute > 0 ? `${limits.requestsPerMinute} requests a minute` : null,
      limits.loginPerMinute > 0 ? `${limits.loginPerMinute} sign-in attempts a minute` : null,
      limits.maxBodyBytes > 0 ? `bodies up to ${limits.maxBodyBytes} bytes` : null,
    ].filter((part) => part !== null);
    if (parts.length === 0) return { step: 'limits', outcome: 'skip', rule: null, reason: 'no limits on this route' };
    return { step: 'limits', outcome: 'continue', rule: null, reason: `at most ${parts.join(', ')} from this address` };
  }

  private signInStep(route: Route, admitted: boolean): AccessStep {
    if (!admitted) return { step: 'sign-in', outcome: 'skip', rule: null, reason: 'refused before this step' };
    const signIn = route.access.signIn;
    if (signIn.method === 'none') return { step: 'sign-in', outcome: 'skip', rule: null, reason: 'no sign-in on this route' };
    if (signIn.method === 'basic') {
      const who = signIn.users === 'all' ? 'any Gatehouse user' : signIn.users.join(', ');
      return { step: 'sign-in', outcome: 'continue', rule: null, reason: `asks for a user name and password (${who})` };
    }
    return { step: 'sign-in', outcome: 'continue', rule: null, reason: `asks ${this.signInName(route)} who it is` };
  }

  /** "none", "basic" or the forward-auth provider's name. */
  private signInName(route: Route): string {
    const signIn = route.access.signIn;
    if (signIn.method !== 'forward') return signIn.method;
    return this.context().settings.providers.find((provider) => provider.id === signIn.providerId)?.name ?? signIn.providerId;
  }
}
