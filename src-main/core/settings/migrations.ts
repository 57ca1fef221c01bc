// Each settings format the app has ever written, and how to turn it into the next one. A file is
// migrated step by step (0 → 1 → 2 …) rather than by one jump per old version, so adding version N+1
// means writing one step, never revisiting the old ones.
import { defaultAcmeSettings } from '../../../shared/acme.js';
import { defaultAccessSettings, defaultRouteAccess } from '../../../shared/access.js';
import { SETTINGS_VERSION } from '../../../shared/model.js';
import { defaultBalancing, defaultHealthCheck, defaultUpstreamLimits } from '../../../shared/upstreams.js';
import { presetById } from '../discovery/presets.js';

/** Parsed JSON of a settings file, not yet checked: a person may have edited it by hand. */
export type RawSettings = Record<string, unknown>;

/** One step from a settings format to the next. */
export interface Migration {
  readonly from: number;
  readonly to: number;
  /**
   * Returns the same settings in format `to`. Must not mutate `raw`, and must tolerate any shape
   * (a field of the wrong type is passed through untouched, for the schema to report later).
   * The `version` field is set by the caller, so a step cannot forget it.
   */
  migrate(raw: RawSettings): RawSettings;
}

/**
 * Version 0 is the pre-release format, written before the file carried a `version` field (and
 * recognised by its absence). It had the same sections as version 1, any of which may be missing,
 * and stored a route's `upstream` as a bare `host:port` with http implied ("10.33.0.4:8096").
 * Version 1 stores the scheme explicitly, so http vs https is never a guess.
 */
const addVersionAndUpstreamScheme: Migration = {
  from: 0,
  to: 1,
  migrate(raw) {
    if (!Array.isArray(raw.routes)) return { ...raw };
    return { ...raw, routes: raw.routes.map(withUpstreamScheme) };
  },
};

function withUpstreamScheme(route: unknown): unknown {
  if (typeof route !== 'object' || route === null || Array.isArray(route)) return route;
  const upstream: unknown = (route as RawSettings).upstream;
  if (typeof upstream !== 'string' || upstream.includes('://')) return route;
  return { ...route, upstream: `http://${upstream.trim()}` };
}

/**
 * Version 2 adds the `app` section (start at login, and whether the first-run guide was done).
 * A file from version 1 belongs to someone who has already used Gatehouse, so the guide is marked
 * done for them; a fresh install (no file) starts with it not done (see defaultSettings).
 */
const addAppSection: Migration = {
  from: 1,
  to: 2,
  migrate(raw) {
    // An `app` already there (hand-written) is kept as it is, for the schema to judge.
    if (Object.hasOwn(raw, 'app')) return { ...raw };
    return { ...raw, app: { startAtLogin: false, onboarded: true } };
  },
};

/**
 * Version 3 gives each route its HTTPS settings (`tls`). Routes saved before Gatehouse had a TLS
 * listener were plain HTTP, so they keep exactly that: mode "none", no redirect, no HSTS. Writing it
 * out (rather than leaving the default to fill it in) also makes an older Gatehouse refuse the file
 * as newer, instead of failing on a field it does not know.
 */
const addRouteTls: Migration = {
  from: 2,
  to: 3,
  migrate(raw) {
    if (!Array.isArray(raw.routes)) return { ...raw };
    return { ...raw, routes: raw.routes.map(withoutTls) };
  },
};

function withoutTls(route: unknown): unknown {
  if (typeof route !== 'object' || route === null || Array.isArray(route) || Object.hasOwn(route, 'tls')) return route;
  return { ...route, tls: { mode: 'none', certificateId: null, redirectHttp: false, hsts: false } };
}

/**
 * Version 4 adds the `lan` section (multicast DNS on, the default for everyone) and each route's
 * `publishOnLan`. Routes saved before Gatehouse could publish names keep not publishing: answering
 * for a name on the LAN is something the user turns on per route, never a surprise after an update.
 */
const addLanPublishing: Migration = {
  from: 3,
  to: 4,
  migrate(raw) {
    // A `lan` already there (hand-written) is kept as it is, for the schema to judge.
    const migrated: RawSettings = Object.hasOwn(raw, 'lan') ? { ...raw } : { ...raw, lan: { mdns: true } };
    if (Array.isArray(raw.routes)) migrated.routes = raw.routes.map(withoutLanPublishing);
    return migrated;
  },
};

function withoutLanPublishing(route: unknown): unknown {
  if (typeof route !== 'object' || route === null || Array.isArray(route) || Object.hasOwn(route, 'publishOnLan')) return route;
  return { ...route, publishOnLan: false };
}

/**
 * Version 5 adds `proxy.errorDetails` (who sees an upstream's address and the cause on an error
 * page) and `admin.allowedHosts` (extra names the admin answers to). Both keep their defaults for an
 * existing file: details only for this machine's own networks (before, every visitor saw them), and
 * no extra admin names. Written out so an older Gatehouse refuses the file as newer.
 */
const addVisitorPrivacy: Migration = {
  from: 4,
  to: 5,
  migrate(raw) {
    const migrated: RawSettings = { ...raw };
    if (isObject(raw.proxy) && !Object.hasOwn(raw.proxy, 'errorDetails')) migrated.proxy = { ...raw.proxy, errorDetails: 'local-network' };
    if (isObject(raw.admin) && !Object.hasOwn(raw.admin, 'allowedHosts')) migrated.admin = { ...raw.admin, allowedHosts: [] };
    return migrated;
  },
};

/**
 * Version 6 adds who may reach each route. Routes saved before were open to anyone who reached
 * the proxy, and keep exactly that (exposure "anyone"; the dashboard marks them as reachable from
 * the internet): an update never cuts a service off. The new protections that refuse nothing a
 * person sends (scanner probes, floods from one address, this machine's LAN exempt) are on, as for
 * new routes. The proxy trusts no named front and no PROXY protocol peer; the access section is empty.
 * The combined access log (for CrowdSec) is off.
 */
const addAccess: Migration = {
  from: 5,
  to: 6,
  migrate(raw) {
    const migrated: RawSettings = { ...raw };
    if (isObject(raw.proxy)) {
      const proxy = { ...raw.proxy };
      if (!Object.hasOwn(proxy, 'trustedFronts')) proxy.trustedFronts = [];
      if (!Object.hasOwn(proxy, 'proxyProtocolFrom')) proxy.proxyProtocolFrom = [];
      migrated.proxy = proxy;
    }
    if (!Object.hasOwn(raw, 'access')) migrated.access = defaultAccessSettings();
    if (isObject(raw.log) && !Object.hasOwn(raw.log, 'combinedLog')) migrated.log = { ...raw.log, combinedLog: false };
    if (Array.isArray(raw.routes)) migrated.routes = raw.routes.map(openToAnyone);
    return migrated;
  },
};

function openToAnyone(route: unknown): unknown {
  if (!isObject(route) || Object.hasOwn(route, 'access')) return route;
  return { ...route, access: { ...defaultRouteAccess(), exposure: 'anyone' } };
}

/**
 * Version 7 lets a route have several upstreams. The single `upstream` becomes the one entry of
 * `upstreams` (weight 1, not a backup, not drained), with failover and 3 tries (retries need a
 * second upstream, so nothing changes for a route with one). Its health check stays what it was
 * before, a TCP connect, unless its app has a known check (Plex: GET /identity): a check the user
 * never chose must not start calling a working service down. The proxy gets its upstream limits
 * (256 connections per upstream, 64 per client, a 10 s wait) and an upstream body that goes silent
 * for 60 s is cut, where before it could hang forever (0, the old default, becomes 60000; any other
 * value someone chose is kept).
 */
const addUpstreamLists: Migration = {
  from: 6,
  to: 7,
  migrate(raw) {
    const migrated: RawSettings = { ...raw };
    if (isObject(raw.proxy)) {
      const proxy = { ...raw.proxy };
      if (!Object.hasOwn(proxy, 'upstreamLimits')) proxy.upstreamLimits = defaultUpstreamLimits();
      if (isObject(proxy.timeouts) && proxy.timeouts.upstreamBodyIdleMs === 0) proxy.timeouts = { ...proxy.timeouts, upstreamBodyIdleMs: 60_000 };
      migrated.proxy = proxy;
    }
    if (Array.isArray(raw.routes)) migrated.routes = raw.routes.map(withUpstreamList);
    return migrated;
  },
};

/** 7 → 8: ACME accounts and DNS providers (none yet); every route's TLS gets `acme: null`. */
const addAcme: Migration = {
  from: 7,
  to: 8,
  migrate(raw) {
    const migrated: RawSettings = { ...raw };
    if (!Object.hasOwn(raw, 'acme')) migrated.acme = defaultAcmeSettings();
    if (Array.isArray(raw.routes)) {
      migrated.routes = raw.routes.map((route) =>
        isObject(route) && isObject(route.tls) && !Object.hasOwn(route.tls, 'acme') ? { ...route, tls: { ...route.tls, acme: null } } : route,
      );
    }
    return migrated;
  },
};

/** 8 → 9: streams (none yet); every route's TLS gets `proxyProtocol: "off"` (passthrough's option). */
const addStreams: Migration = {
  from: 8,
  to: 9,
  migrate(raw) {
    const migrated: RawSettings = { ...raw };
    if (!Object.hasOwn(raw, 'streams')) migrated.streams = [];
    if (Array.isArray(raw.routes)) {
      migrated.routes = raw.routes.map((route) =>
        isObject(route) && isObject(route.tls) && !Object.hasOwn(route.tls, 'proxyProtocol') ? { ...route, tls: { ...route.tls, proxyProtocol: 'off' } } : route,
      );
    }
    return migrated;
  },
};

/** 9 → 10: the insight section: no route inspected, scheduled backups off. */
const addInsight: Migration = {
  from: 9,
  to: 10,
  migrate(raw) {
    return Object.hasOwn(raw, 'insight') ? { ...raw } : { ...raw, insight: { inspector: [], backups: { enabled: false, folder: null, everyHours: 24, keep: 7 } } };
  },
};

function withUpstreamList(route: unknown): unknown {
  if (!isObject(route) || Object.hasOwn(route, 'upstreams') || typeof route.upstream !== 'string') return route;
  const { upstream, ...rest } = route;
  const healthCheck = defaultHealthCheck();
  const presetCheck = typeof route.app === 'string' ? presetById(route.app)?.healthCheck : null;
  if (presetCheck) healthCheck.active = { ...healthCheck.active, ...presetCheck };
  else healthCheck.active.kind = 'tcp';
  return {
    ...rest,
    upstreams: [{ url: upstream, weight: 1, backup: false, drained: false }],
    balancing: Object.hasOwn(route, 'balancing') ? route.balancing : defaultBalancing(),
    healthCheck: Object.hasOwn(route, 'healthCheck') ? route.healthCheck : healthCheck,
  };
}

function isObject(value: unknown): value is RawSettings {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every step, oldest first; the last one ends at SETTINGS_VERSION. */
export const migrations: readonly Migration[] = [addVersionAndUpstreamScheme, addAppSection, addRouteTls, addLanPublishing, addVisitorPrivacy, addAccess, addUpstreamLists, addAcme, addStreams, addInsight];

/**
 * Brings `raw` (written in format `from`) to format `target` by running each step in turn.
 * `steps` and `target` are parameters so tests can exercise a longer chain than the app has today.
 * Throws when a step is missing: that is a bug in this file, not in the user's settings.
 */
export function migrateToCurrent(
  raw: RawSettings,
  from: number,
  steps: readonly Migration[] = migrations,
  target: number = SETTINGS_VERSION,
): RawSettings {
  let result = raw;
  let version = from;
  while (version < target) {
    const step = steps.find((candidate) => candidate.from === version);
    if (!step || step.to <= version) throw new Error(`Gatehouse has no migration from settings version ${version}`);
    result = { ...step.migrate(result), version: step.to };
    version = step.to;
  }
  return result;
}
