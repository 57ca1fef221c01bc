// The Access page's API: named access lists and sign-in providers (stored in the settings file and
// edited by id, like routes), users and the CrowdSec key (secrets, kept by the access runtime in
// their own files), the "would this address get in" check, and scanner bans. Every change is saved
// first, then applied: routes pick up a changed list with their next request, with no re-save.
import { randomBytes } from 'node:crypto';
import type { AccessList, SignInProvider } from '../../../shared/access.js';
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { Route, Settings } from '../../../shared/model.js';
import type { AccessRuntime } from '../access/access-runtime.js';
import { routeLabel } from './route-edits.js';

type AccessMembers =
  | 'getAccess'
  | 'addAccessList'
  | 'updateAccessList'
  | 'removeAccessList'
  | 'checkAccess'
  | 'addAccessUser'
  | 'setAccessUserPassword'
  | 'removeAccessUser'
  | 'addSignInProvider'
  | 'updateSignInProvider'
  | 'removeSignInProvider'
  | 'updateAccessSettings'
  | 'liftBan';

export interface AccessHandlerDeps {
  access: AccessRuntime;
  current: () => Settings;
  /** Saves an edit of the settings (invalid_input naming the field when the schema refuses it). */
  persist: (edit: (current: Settings) => Settings) => Promise<Settings>;
  /** Runs a change after the ones before it. */
  change: <T>(task: () => Promise<T>) => Promise<T>;
  /** The saved access settings changed: rebuild the runtime and every route's passes, announce. */
  applied: () => void;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function newId(taken: Iterable<string>): string {
  const used = new Set(taken);
  for (;;) {
    let id = '';
    for (const byte of randomBytes(16)) if (byte < 252 && id.length < 10) id += ID_ALPHABET[byte % 36];
    if (id.length === 10 && !used.has(id)) return id;
  }
}

function routesUsing(routes: readonly Route[], uses: (route: Route) => boolean): string[] {
  return routes.filter(uses).map((route) => `"${routeLabel(route)}"`);
}

/**
 * Refuses a route that points at an access list or provider that does not exist, naming the field:
 * the settings schema would refuse it too, but with the whole file's path.
 */
export function assertAccessReferences(route: Pick<Route, 'access'>, settings: Settings): void {
  const lists = new Set(settings.access.lists.map((list) => list.id));
  for (const [i, id] of route.access.lists.entries()) {
    if (!lists.has(id)) {
      const message = `there is no access list "${id}"; create it on the Access page first`;
      throw new ApiError('invalid_input', `access.lists.${i}: ${message}`, { issues: [{ path: `access.lists.${i}`, message }] });
    }
  }
  const signIn = route.access.signIn;
  if (signIn.method === 'forward' && !settings.access.providers.some((provider) => provider.id === signIn.providerId)) {
    const message = `there is no sign-in provider "${signIn.providerId}"; add it on the Access page first`;
    throw new ApiError('invalid_input', `access.signIn.providerId: ${message}`, { issues: [{ path: 'access.signIn.providerId', message }] });
  }
}

export function accessHandlers(deps: AccessHandlerDeps): Pick<ApiHandlers, AccessMembers> {
  const { access, current, persist, change } = deps;

  const findList = (id: string): AccessList => {
    const list = current().access.lists.find((candidate) => candidate.id === id);
    if (!list) throw new ApiError('not_found', `There is no access list "${id}"; it may have been removed.`);
    return list;
  };
  const findProvider = (id: string): SignInProvider => {
    const provider = current().access.providers.find((candidate) => candidate.id === id);
    if (!provider) throw new ApiError('not_found', `There is no sign-in provider "${id}"; it may have been removed.`);
    return provider;
  };
  const assertListNameFree = (name: string, id: string | null) => {
    const clash = current().access.lists.find((list) => list.id !== id && list.name.toLowerCase() === name.toLowerCase());
    if (clash) throw new ApiError('conflict', `An access list is already called "${clash.name}"; choose another name.`, { issues: [{ path: 'name', message: 'this name is taken' }] });
  };
  const saveAccess = async (edit: (settings: Settings) => Settings) => {
    await persist(edit);
    deps.applied();
  };

  return {
    getAccess: async (_input, context) => access.overview(context),

    addAccessList: (input) =>
      change(async () => {
        assertListNameFree(input.name, null);
        const list: AccessList = { id: newId(current().access.lists.map((l) => l.id)), ...input };
        await saveAccess((settings) => ({ ...settings, access: { ...settings.access, lists: [...settings.access.lists, list] } }));
        return structuredClone(list);
      }),

    updateAccessList: ({ id, ...fields }) =>
      change(async () => {
        findList(id);
        assertListNameFree(fields.name, id);
        const list: AccessList = { id, ...fields };
        await saveAccess((settings) => ({
          ...settings,
          access: { ...settings.access, lists: settings.access.lists.map((existing) => (existing.id === id ? list : existing)) },
        }));
        return structuredClone(list);
      }),

    removeAccessList: ({ id }) =>
      change(async () => {
        const list = findList(id);
        const routes = routesUsing(current().routes, (route) => route.access.lists.includes(id));
        const streams = current().streams.filter((stream) => stream.access.lists.includes(id)).map((stream) => `stream "${stream.title}"`);
        const users = [...routes, ...streams];
        if (users.length > 0) {
          const those = streams.length === 0 ? (users.length > 1 ? 'those routes' : 'that route') : routes.length === 0 ? (users.length > 1 ? 'those streams' : 'that stream') : 'them';
          throw new ApiError('conflict', `"${list.name}" is used by ${users.join(', ')}. Take it off ${those} first.`);
        }
        await saveAccess((settings) => ({ ...settings, access: { ...settings.access, lists: settings.access.lists.filter((l) => l.id !== id) } }));
        return { removed: structuredClone(list) };
      }),

    checkAccess: async ({ routeId, address }) => {
      const route = current().routes.find((candidate) => candidate.id === routeId);
      if (!route) throw new ApiError('not_found', `There is no route "${routeId}"; it may have been removed.`);
      return access.rules.verdict(route, address);
    },

    addAccessUser: ({ name, password }) => change(() => access.signIn.addUser(name, password).finally(deps.applied)),
    setAccessUserPassword: ({ name, password }) => change(() => access.signIn.setPassword(name, password).finally(deps.applied)),
    removeAccessUser: ({ name }) => change(async () => ({ removed: await access.signIn.removeUser(name).finally(deps.applied) })),

    addSignInProvider: (input) =>
      change(async () => {
        const provider: SignInProvider = { id: newId(current().access.providers.map((p) => p.id)), ...input };
        await saveAccess((settings) => ({ ...settings, access: { ...settings.access, providers: [...settings.access.providers, provider] } }));
        return structuredClone(provider);
      }),

    updateSignInProvider: ({ id, ...fields }) =>
      change(async () => {
        findProvider(id);
        const provider: SignInProvider = { id, ...fields };
        await saveAccess((settings) => ({
          ...settings,
          access: { ...settings.access, providers: settings.access.providers.map((existing) => (existing.id === id ? provider : existing)) },
        }));
        return structuredClone(provider);
      }),

    removeSignInProvider: ({ id }) =>
      change(async () => {
        const provider = findProvider(id);
        const users = routesUsing(current().routes, (route) => route.access.signIn.method === 'forward' && route.access.signIn.providerId === id);
        if (users.length > 0) {
          throw new ApiError('conflict', `"${provider.name}" signs people in to ${users.join(', ')}. Choose another sign-in for ${users.length > 1 ? 'those routes' : 'that route'} first.`);
        }
        await saveAccess((settings) => ({ ...settings, access: { ...settings.access, providers: settings.access.providers.filter((p) => p.id !== id) } }));
        return { removed: structuredClone(provider) };
      }),

    updateAccessSettings: ({ crowdsecApiKey, crowdsec, scannerBan, maxConnectionsPerClient }, context) =>
      change(async () => {
        if (crowdsecApiKey !== undefined) await access.crowdsec.setApiKey(crowdsecApiKey);
        if (crowdsec || scannerBan || maxConnectionsPerClient !== undefined) {
          await saveAccess((settings) => ({
            ...settings,
            access: {
              ...settings.access,
              crowdsec: { ...settings.access.crowdsec, ...crowdsec },
              scannerBan: { ...settings.access.scannerBan, ...scannerBan },
              maxConnectionsPerClient: maxConnectionsPerClient ?? settings.access.maxConnectionsPerClient,
            },
          }));
        } else {
          deps.applied();
        }
        return access.overview(context);
      }),

    liftBan: async ({ address }, context) => {
      if (!access.scanners.lift(address)) throw new ApiError('not_found', `${address} is not banned by the scanner list.`);
      deps.applied();
      return access.overview(context);
    },
  };
}
