// The Access page's side of the in-memory Gatehouse: lists, users, providers and CrowdSec, kept in
// memory with the contract's checks (inputs arrive through parseInput, so the schemas already
// refused bad ones): name clashes and removals in use are conflicts naming the routes, and the
// verdict walks the documented order (shared/access.ts) for IPv4 and exact IPv6 entries. Never
// part of the shipped bundle.
import {
  defaultAccessSettings,
  type AccessList,
  type AccessOverview,
  type AccessSettings,
  type AccessStep,
  type AccessUser,
  type AccessVerdict,
  type ActiveBan,
  type CrowdsecStatus,
  type ForwardAuthPreset,
  type SignInProvider,
} from '../../shared/access.js';
import { ApiError } from '../../shared/api.js';
import { FORWARD_AUTH_PRESETS } from '../../shared/forward-auth-presets.js';
import type { Route } from '../../shared/model.js';

/** The presets the fake reports: the core's own. */
export const FAKE_PRESETS: ForwardAuthPreset[] = [...FORWARD_AUTH_PRESETS];

const label = (route: Route) => `"${route.title || route.names[0] || route.id}"`;

/** An IPv4 address as a number, or null for anything else. */
function ipv4(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return null;
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** Whether `address` is `range` (an address, or an IPv4 CIDR range). IPv6 ranges match exactly only. */
export function rangeMatches(range: string, address: string): boolean {
  const [base, bits] = range.split('/');
  const target = ipv4(address);
  const start = ipv4(base ?? '');
  if (target === null || start === null) return range.toLowerCase() === address.toLowerCase();
  const size = 2 ** (32 - Number(bits ?? 32));
  return Math.floor(target / size) === Math.floor(start / size);
}

const LAN_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '::1'];

export function isLan(address: string): boolean {
  return LAN_RANGES.some((range) => rangeMatches(range, address)) || /^f[cd]|^fe[89ab]/i.test(address);
}

export class FakeAccess {
  settings: AccessSettings = defaultAccessSettings();
  users: AccessUser[] = [];
  apiKeySet = false;
  /** What CrowdSec reports while on (the screenshot scenarios set 'down' and a problem). */
  crowdsecState: Pick<CrowdsecStatus, 'state' | 'problem' | 'lastPullAt' | 'bans'> = { state: 'ok', problem: null, lastPullAt: null, bans: 0 };
  scannerBans: ActiveBan[] = [];
  /** What getAccess says about the caller; null = the desktop window. */
  yourAddress: string | null = '192.168.1.30';
  #nextId = 1;

  constructor(
    private readonly routes: () => Route[],
    private readonly emit: (overview: AccessOverview) => void = () => {},
  ) {}

  overview(): AccessOverview {
    return {
      yourAddress: this.yourAddress,
      yourAddressIsLan: this.yourAddress === null ? null : isLan(this.yourAddress),
      lists: structuredClone(this.settings.lists),
      providers: structuredClone(this.settings.providers),
      presets: structuredClone(FAKE_PRESETS),
      users: structuredClone(this.users),
      crowdsec: this.#crowdsec(),
      countryDatabase: { source: '@ip-location-db/geo-whois-asn-country-mmdb', license: 'CC0', builtAt: '2026-11-01', updates: 'With each Gatehouse release.' },
      scannerBans: structuredClone(this.scannerBans),
    };
  }

  #crowdsec(): CrowdsecStatus {
    const on = this.settings.crowdsec.enabled;
    const state = !on ? 'off' : !this.apiKeySet ? 'no_key' : this.crowdsecState.state;
    const problem = state === 'no_key' ? 'No bouncer key is set: run `cscli bouncers add gatehouse` and paste the key here.' : on ? this.crowdsecState.problem : null;
    return { settings: { ...this.settings.crowdsec }, apiKeySet: this.apiKeySet, ...this.crowdsecState, state, problem };
  }

  /** Something the Access page shows changed: the `access` event, with no caller's address. */
  changed(): void {
    this.emit({ ...this.overview(), yourAddress: null, yourAddressIsLan: null });
  }

  #assertNameFree(name: string, id: string | null): void {
    const clash = this.settings.lists.find((list) => list.id !== id && list.name.toLowerCase() === name.toLowerCase());
    if (clash) throw new ApiError('conflict', `An access list is already called "${clash.name}"; choose another name.`, { issues: [{ path: 'name', message: 'this name is taken' }] });
  }

  addList(input: Omit<AccessList, 'id'>): AccessList {
    this.#assertNameFree(input.name, null);
    const list = { id: `list-${this.#nextId++}`, ...input };
    this.settings.lists.push(list);
    this.changed();
    return structuredClone(list);
  }

  updateList(list: AccessList): AccessList {
    const index = this.settings.lists.findIndex((existing) => existing.id === list.id);
    if (index === -1) throw new ApiError('not_found', `There is no access list "${list.id}"; it may have been removed.`);
    this.#assertNameFree(list.name, list.id);
    this.settings.lists[index] = list;
    this.changed();
    return structuredClone(list);
  }

  removeList(id: string): { removed: AccessList } {
    const list = this.settings.lists.find((existing) => existing.id === id);
    if (!list) throw new ApiError('not_found', `There is no access list "${id}"; it may have been removed.`);
    const users = this.routes().filter((route) => route.access.lists.includes(id)).map(label);
    if (users.length > 0) throw new ApiError('conflict', `"${list.name}" is used by ${users.join(', ')}. Take it off ${users.length > 1 ? 'those routes' : 'that route'} first.`);
    this.settings.lists = this.settings.lists.filter((existing) => existing.id !== id);
    this.changed();
    return { removed: list };
  }

  addUser(name: string): AccessUser {
    if (this.users.some((user) => user.name === name)) throw new ApiError('conflict', `A user is already called "${name}".`, { issues: [{ path: 'name', message: 'this name is taken' }] });
    const user = { name, passwordSetAt: new Date().toISOString() };
    this.users.push(user);
    this.changed();
    return structuredClone(user);
  }

  setPassword(name: string): AccessUser {
    const user = this.users.find((existing) => existing.name === name);
    if (!user) throw new ApiError('not_found', `There is no user "${name}".`);
    user.passwordSetAt = new Date().toISOString();
    this.changed();
    return structuredClone(user);
  }

  removeUser(name: string): { removed: AccessUser } {
    const user = this.users.find((existing) => existing.name === name);
    if (!user) throw new ApiError('not_found', `There is no user "${name}".`);
    this.users = this.users.filter((existing) => existing !== user);
    this.changed();
    return { removed: user };
  }

  addProvider(input: Omit<SignInProvider, 'id'>): SignInProvider {
    const provider = { id: `provider-${this.#nextId++}`, ...input };
    this.settings.providers.push(provider);
    this.changed();
    return structuredClone(provider);
  }

  updateProvider(provider: SignInProvider): SignInProvider {
    const index = this.settings.providers.findIndex((existing) => existing.id === provider.id);
    if (index === -1) throw new ApiError('not_found', `There is no sign-in provider "${provider.id}"; it may have been removed.`);
    this.settings.providers[index] = provider;
    this.changed();
    return structuredClone(provider);
  }

  removeProvider(id: string): { removed: SignInProvider } {
    const provider = this.settings.providers.find((existing) => existing.id === id);
    if (!provider) throw new ApiError('not_found', `There is no sign-in provider "${id}"; it may have been removed.`);
    const users = this.routes()
      .filter((route) => route.access.signIn.method === 'forward' && route.access.signIn.providerId === id)
      .map(label);
    if (users.length > 0) {
      throw new ApiError('conflict', `"${provider.name}" signs people in to ${users.join(', ')}. Choose another sign-in for ${users.length > 1 ? 'those routes' : 'that route'} first.`);
    }
    this.settings.providers = this.settings.providers.filter((existing) => existing.id !== id);
    this.changed();
    return { removed: provider };
  }

  updateSettings(input: { crowdsec?: Partial<AccessSettings['crowdsec']>; crowdsecApiKey?: string }): AccessOverview {
    this.settings.crowdsec = { ...this.settings.crowdsec, ...input.crowdsec };
    if (input.crowdsecApiKey !== undefined) this.apiKeySet = input.crowdsecApiKey !== '';
    this.changed();
    return this.overview();
  }

  liftBan(address: string): AccessOverview {
    const before = this.scannerBans.length;
    this.scannerBans = this.scannerBans.filter((ban) => ban.address !== address);
    if (this.scannerBans.length === before) throw new ApiError('not_found', `${address} is not banned by the scanner list.`);
    this.changed();
    return this.overview();
  }

  /** What the gateway refuses in a saved route: lists and providers that do not exist. */
  routeIssues(route: Pick<Route, 'access'>): { path: string; message: string }[] {
    const issues = route.access.lists.flatMap((id, i) =>
      this.settings.lists.some((list) => list.id === id) ? [] : [{ path: `access.lists.${i}`, message: `there is no access list "${id}"; create it on the Access page first` }],
    );
    const signIn = route.access.signIn;
    if (signIn.method === 'forward' && !this.settings.providers.some((provider) => provider.id === signIn.providerId)) {
      issues.push({ path: 'access.signIn.providerId', message: `there is no sign-in provider "${signIn.providerId}"; add it on the Access page first` });
    }
    return issues;
  }

  /** The documented order: lists (first match), exposure, then what is left for the visitor. */
  verdict(route: Route, address: string): AccessVerdict {
    const lan = isLan(address);
    const steps: AccessStep[] = [];
    let decided: boolean | null = null;
    for (const id of route.access.lists) {
      const list = this.settings.lists.find((candidate) => candidate.id === id);
      const entry = list?.entries.find((candidate) => rangeMatches(candidate.range, address));
      if (!list) continue;
      if (!entry) {
        steps.push({ step: 'list', outcome: 'continue', rule: null, reason: `No entry of "${list.name}" matches ${address}.` });
        continue;
      }
      decided = entry.action === 'allow';
      steps.push({
        step: 'list',
        outcome: entry.action,
        rule: `list ${list.name}: ${entry.action} ${entry.range}`,
        reason: `"${list.name}" ${entry.action === 'allow' ? 'allows' : 'denies'} ${entry.range}${entry.note ? ` (${entry.note})` : ''}.`,
      });
      break;
    }
    if (decided === null) {
      decided = lan || route.access.exposure === 'anyone';
      steps.push({
        step: 'exposure',
        outcome: decided ? 'continue' : 'deny',
        rule: decided ? null : 'exposure: this network only',
        reason: lan ? `${address} is on this network.` : decided ? 'The route is open to anyone on the internet.' : `The route is for this network only, and ${address} is not on it.`,
      });
    } else {
      steps.push({ step: 'exposure', outcome: 'skip', rule: null, reason: 'A list entry decided, so the exposure is not asked.' });
    }
    const signIn = route.access.signIn;
    const provider = signIn.method === 'forward' ? this.settings.providers.find((candidate) => candidate.id === signIn.providerId) : undefined;
    return { address, routeId: route.id, admitted: decided, lan, country: null, steps, signIn: provider ? provider.name : signIn.method };
  }
}
