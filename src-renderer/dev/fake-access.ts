// The Access page's side of the in-memory Gatehouse: lists, users, providers and CrowdSec, kept in
// memory with the contract's own checks. Never part of the shipped bundle.
import { defaultAccessSettings, type AccessList, type AccessOverview, type AccessSettings, type AccessUser, type AccessVerdict, type SignInProvider } from '../../shared/access.js';
import { ApiError } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';

export class FakeAccess {
  settings: AccessSettings = defaultAccessSettings();
  users: AccessUser[] = [];
  apiKeySet = false;
  #nextId = 1;

  constructor(private readonly routes: () => Route[]) {}

  overview(): AccessOverview {
    return {
      yourAddress: '192.168.1.30',
      yourAddressIsLan: true,
      lists: structuredClone(this.settings.lists),
      providers: structuredClone(this.settings.providers),
      presets: [],
      users: structuredClone(this.users),
      crowdsec: { settings: this.settings.crowdsec, apiKeySet: this.apiKeySet, state: this.settings.crowdsec.enabled ? 'ok' : 'off', problem: null, lastPullAt: null, bans: 0 },
      countryDatabase: null,
      scannerBans: [],
    };
  }

  addList(input: Omit<AccessList, 'id'>): AccessList {
    const list = { id: `list-${this.#nextId++}`, ...input };
    this.settings.lists.push(list);
    return list;
  }

  updateList(list: AccessList): AccessList {
    const index = this.settings.lists.findIndex((existing) => existing.id === list.id);
    if (index === -1) throw new ApiError('not_found', `There is no access list "${list.id}".`);
    this.settings.lists[index] = list;
    return list;
  }

  removeList(id: string): { removed: AccessList } {
    const list = this.settings.lists.find((existing) => existing.id === id);
    if (!list) throw new ApiError('not_found', `There is no access list "${id}".`);
    if (this.routes().some((route) => route.access.lists.includes(id))) throw new ApiError('conflict', `"${list.name}" is used by a route.`);
    this.settings.lists = this.settings.lists.filter((existing) => existing.id !== id);
    return { removed: list };
  }

  addUser(name: string): AccessUser {
    if (this.users.some((user) => user.name === name)) throw new ApiError('conflict', `A user is already called "${name}".`);
    const user = { name, passwordSetAt: new Date(0).toISOString() };
    this.users.push(user);
    return user;
  }

  removeUser(name: string): { removed: AccessUser } {
    const user = this.users.find((existing) => existing.name === name);
    if (!user) throw new ApiError('not_found', `There is no user "${name}".`);
    this.users = this.users.filter((existing) => existing !== user);
    return { removed: user };
  }

  addProvider(input: Omit<SignInProvider, 'id'>): SignInProvider {
    const provider = { id: `provider-${this.#nextId++}`, ...input };
    this.settings.providers.push(provider);
    return provider;
  }

  updateProvider(provider: SignInProvider): SignInProvider {
    const index = this.settings.providers.findIndex((existing) => existing.id === provider.id);
    if (index === -1) throw new ApiError('not_found', `There is no sign-in provider "${provider.id}".`);
    this.settings.providers[index] = provider;
    return provider;
  }

  removeProvider(id: string): { removed: SignInProvider } {
    const provider = this.settings.providers.find((existing) => existing.id === id);
    if (!provider) throw new ApiError('not_found', `There is no sign-in provider "${id}".`);
    this.settings.providers = this.settings.providers.filter((existing) => existing.id !== id);
    return { removed: provider };
  }

  verdict(route: Route, address: string): AccessVerdict {
    const lan = /^(10\.|192\.168\.|127\.)/.test(address);
    const admitted = lan || route.access.exposure === 'anyone';
    return {
      address,
      routeId: route.id,
      admitted,
      lan,
      country: null,
      steps: [{ step: 'exposure', outcome: admitted ? 'allow' : 'deny', rule: `exposure: ${route.access.exposure}`, reason: admitted ? 'allowed' : 'this network only' }],
      signIn: route.access.signIn.method,
    };
  }
}
