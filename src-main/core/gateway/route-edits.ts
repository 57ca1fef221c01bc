// The rules a route change must pass before it is stored: ids are assigned here and never change,
// and a host name belongs to one route only. Pure functions over the current route list, so the
// gateway can check a change, persist it, then apply it.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApiError, type ApiParsedInput } from '../../../shared/api.js';
import { publishOnLanProblem, type Route, type Settings } from '../../../shared/model.js';
import { defaultHealthCheck } from '../../../shared/upstreams.js';
import { presetById } from '../discovery/presets.js';

type RouteFields = ApiParsedInput<'addRoute'>;

/** What the user calls a route in a message: its title, else its first host name. */
export function routeLabel(route: Pick<Route, 'title' | 'names'>): string {
  return route.title || route.names[0] || 'unnamed route';
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 10;

/**
 * A short random id, unique among `routes`: 10 characters of a-z0-9 (about 51 bits), safe in a URL
 * path and in a shell without quoting, and never starting with "-".
 */
export function newRouteId(routes: readonly Pick<Route, 'id'>[]): string {
  const taken = new Set(routes.map((route) => route.id));
  for (;;) {
    let id = '';
    while (id.length < ID_LENGTH) {
      for (const byte of randomBytes(16)) {
        // 252 = 7 × 36: dropping bytes above it keeps every character equally likely.
        if (byte < 252 && id.length < ID_LENGTH) id += ID_ALPHABET[byte % 36];
      }
    }
    if (!taken.has(id)) return id;
  }
}

/** The stored form of a route: the validated fields under `id`, without an empty title. */
export function toRoute(id: string, fields: RouteFields): Route {
  const { title, ...rest } = fields;
  return title ? { id, title, ...rest } : { id, ...rest };
}

/**
 * A new route for a known app checks the app's own health endpoint (Plex: GET /identity) unless
 * the input chose a check. The input has been parsed, which fills in the default check, so a check
 * equal to the default counts as not chosen: the app's endpoint is the better default for it.
 */
export function withPresetCheck(route: Route): Route {
  const presetCheck = route.app === null ? null : presetById(route.app)?.healthCheck;
  if (!presetCheck || !isDeepStrictEqual(route.healthCheck, defaultHealthCheck())) return route;
  return { ...route, healthCheck: { ...route.healthCheck, active: { ...route.healthCheck.active, ...presetCheck } } };
}

export function findRoute(routes: readonly Route[], id: string): Route {
  const route = routes.find((candidate) => candidate.id === id);
  if (!route) throw new ApiError('not_found', `There is no route with the id "${id}"; it may have been removed.`);
  return route;
}

/**
 * Throws `conflict` when one of `candidate`'s names already belongs to another route. An exact name
 * under another route's wildcard is allowed (the exact name wins), so only equal names clash.
 */
export function assertNamesFree(routes: readonly Route[], candidate: Route): void {
  const owners = new Map<string, Route>();
  for (const route of routes) {
    if (route.id === candidate.id) continue;
    for (const name of route.names) owners.set(name, route);
  }
  const issues = candidate.names.flatMap((name, index) => {
    const owner = owners.get(name);
    return owner ? [{ path: `names.${index}`, message: `"${name}" already belongs to the route "${routeLabel(owner)}"` }] : [];
  });
  if (issues.length > 0) {
    const message =
      issues.length === 1
        ? `${issues[0]!.message}; remove it there first, or choose another name.`
        : `${issues.map((issue) => issue.message).join('; ')}; remove them there first, or choose other names.`;
    throw new ApiError('conflict', message.charAt(0).toUpperCase() + message.slice(1), { issues });
  }
}

/**
 * Throws `invalid_input` on the `publishOnLan` field when the route asks to be published on the LAN
 * but has no name mDNS can answer for (publishOnLanProblem, the rule the route form shows too).
 */
export function assertPublishable(route: Pick<Route, 'names' | 'publishOnLan'>): void {
  const problem = publishOnLanProblem(route);
  if (problem) throw new ApiError('invalid_input', `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.`, { issues: [{ path: 'publishOnLan', message: problem }] });
}

/**
 * The same rule for every route of an import file, naming the field by its path in the file
 * ("settings.routes.1.publishOnLan" in an export, "routes.1.publishOnLan" in a bare settings.json).
 */
export function assertImportPublishable(routes: readonly Route[], document: unknown): void {
  const prefix = typeof document === 'object' && document !== null && Object.hasOwn(document, 'format') ? 'settings.' : '';
  for (const [index, route] of routes.entries()) {
    const problem = publishOnLanProblem(route);
    if (!problem) continue;
    const path = `${prefix}routes.${index}.publishOnLan`;
    throw new ApiError('invalid_input', `This file cannot be imported, and nothing was changed: ${path}: ${problem}.`, { issues: [{ path, message: problem }] });
  }
}

/**
 * Refuses removing a route (`after` null) or taking its certificate away (no HTTPS, or TLS passed
 * through) while an FTP stream answers AUTH TLS with that route's certificate, naming the stream.
 */
export function assertStreamsKeepCertificate(route: Route, after: Route | null, streams: Settings['streams']): void {
  if (after !== null && after.tls.mode !== 'none' && after.tls.mode !== 'passthrough') return;
  const users = streams.filter((stream) => stream.ftp?.certificateRouteId === route.id).map((stream) => `"${stream.title}"`);
  if (users.length === 0) return;
  const streamsText = `${users.length > 1 ? 'the FTP streams' : 'the FTP stream'} ${users.join(', ')}`;
  const what = after === null ? 'removed' : after.tls.mode === 'none' ? 'left without HTTPS' : 'switched to TLS passthrough';
  throw new ApiError(
    'conflict',
    `The route "${routeLabel(route)}" cannot be ${what}: ${streamsText} answer${users.length > 1 ? '' : 's'} FTPS (AUTH TLS) with its certificate.`,
    { fix: `Choose another route's certificate for ${streamsText} (or turn FTPS off there) first.`, ...(after ? { issues: [{ path: 'tls.mode', message: `${streamsText} use${users.length > 1 ? '' : 's'} this route's certificate for FTPS` }] } : {}) },
  );
}
