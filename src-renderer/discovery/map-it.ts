// "Map it": what the Add route form starts with for a service seen on the LAN or a port a probe
// found. Pure, so every choice below is unit-tested: the name (the app's suggested name, else the
// instance's, made a valid label and kept clear of names routes already use), the upstream (the
// scheme it answered with, an IPv4 address first), the app's options and health check from its preset, HTTPS from the
// local CA and the name published on the LAN, so Map it → Save gives a trusted, resolvable route.
import { defaultRouteAccess } from '../../shared/access.js';
import type { Route, RouteInput } from '../../shared/model.js';
import type { AppPreset, DiscoveredService, Identification, ProbedPort } from '../../shared/status.js';
import { presetHealthCheck } from '../route-form/upstream-values.js';

/** What "Map it" was pressed on. */
export type MapItSource = { kind: 'service'; service: DiscoveredService } | { kind: 'probe'; address: string; port: ProbedPort };

/** The Add route form's starting point, and what the page says about where it came from. */
export interface RouteDraft {
  route: RouteInput;
  /** "Jellyfin at 10.33.0.4:8096". */
  origin: string;
  /** How it was recognised ("GET /System/Info/Public: ProductName …"); empty when it was not. */
  evidence: string[];
  /** The preset's advice ("Needs WebSocket for …"), to read before saving. */
  notes: string[];
  /** Where Cancel goes back to. */
  back: string;
}

/** The longest label the form makes up; DNS allows 63, but a name is for typing. */
const MAX_LABEL = 40;

/**
 * A DNS label from free text ("Living Room TV" → "living-room-tv"): lower case, accents dropped,
 * anything else between letters and digits becomes one hyphen. Empty when nothing is left.
 */
export function nameLabel(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, MAX_LABEL)
    .replace(/-+$/, '');
}

/**
 * `<label>.local`, or `<label>-2.local`, `-3`… when a route already has that name or a device on the
 * LAN answers for it: Home Assistant OS, for one, is itself `homeassistant.local`, and publishing
 * that name from this machine would only end in a conflict.
 */
export function freeLocalName(label: string, routes: readonly Pick<Route, 'names'>[], lanHosts: readonly string[] = []): string {
  const taken = new Set([...routes.flatMap((route) => route.names), ...lanHosts].map((name) => name.toLowerCase().replace(/\.$/, '')));
  if (!taken.has(`${label}.local`)) return `${label}.local`;
  for (let n = 2; ; n += 1) {
    const candidate = `${label}-${n}.local`;
    if (!taken.has(candidate)) return candidate;
  }
}

const isIpv4 = (address: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(address);
const isLinkLocal = (address: string) => address.startsWith('169.254.') || /^fe[89ab][0-9a-f]:/i.test(address);

/**
 * The address to forward to: an IPv4 address first (a link-local one last), then a routable IPv6
 * address. Null when only IPv6 link-local addresses are known: those need the interface's zone,
 * which a URL cannot carry here.
 */
export function upstreamAddress(addresses: readonly string[]): string | null {
  const ipv4 = addresses.filter(isIpv4);
  const ipv6 = addresses.filter((address) => address.includes(':') && !isLinkLocal(address));
  return ipv4.find((address) => !isLinkLocal(address)) ?? ipv4[0] ?? ipv6[0] ?? null;
}

/** `http://10.33.0.4:8096`, `https://[2001:db8::4]:8920`. */
export function upstreamUrl(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function schemeOf(source: MapItSource, preset: AppPreset | undefined): 'http' | 'https' {
  if (source.kind === 'probe') return source.port.identification?.scheme ?? source.port.scheme ?? preset?.scheme ?? 'http';
  const { identification, types } = source.service;
  if (identification) return identification.scheme;
  if (types.includes('_https._tcp')) return 'https';
  return preset?.scheme ?? 'http';
}

function identificationOf(source: MapItSource): Identification | null {
  return source.kind === 'service' ? source.service.identification : source.port.identification;
}

/** The preset the identification names; null when it names none, or one this list does not have. */
export function presetFor(identification: Identification | null, presets: readonly AppPreset[]): AppPreset | null {
  if (!identification?.presetId) return null;
  return presets.find((preset) => preset.id === identification.presetId) ?? null;
}

function presetNotes(preset: AppPreset | null): string[] {
  if (!preset) return [];
  const notes = preset.notes ? [preset.notes] : [];
  if (preset.largeUploads) notes.push(`${preset.app} takes large uploads; Gatehouse sets no size limit, so a proxy in front of it must not either.`);
  return notes;
}

/**
 * The route "Map it" proposes. Only the upstream is required to come from the source; everything
 * else is a suggestion the form shows before anything is saved.
 */
export function mapIt(
  source: MapItSource,
  context: {
    presets: readonly AppPreset[];
    routes: readonly Pick<Route, 'names'>[];
    /** Host names devices on the LAN hold (the discovered services' SRV targets). */
    lanHosts?: readonly string[];
  },
): RouteDraft {
  const identification = identificationOf(source);
  const preset = presetFor(identification, context.presets) ?? undefined;
  const scheme = schemeOf(source, preset);
  const port = source.kind === 'service' ? source.service.port : source.port.port;
  const host = source.kind === 'service' ? (upstreamAddress(source.service.addresses) ?? source.service.host) : source.address;
  const instance = source.kind === 'service' ? source.service.name : null;

  const title = preset?.app ?? instance ?? identification?.app ?? '';
  const label = [preset?.suggestedName, instance, identification?.app].map((text) => nameLabel(text ?? '')).find((text) => text !== '') ?? `service-${port}`;
  // An HTTPS upstream on a LAN address almost never has a certificate for that address; without a
  // preset that knows better, the route accepts it unchecked (the form shows the box ticked).
  const insecureUpstreamTls = scheme === 'https' && (preset?.insecureUpstreamTls ?? true);

  const hostPort = upstreamUrl(scheme, host, port).replace(/^https?:\/\//, '');
  return {
    route: {
      ...(title ? { title } : {}),
      names: [freeLocalName(label, context.routes, context.lanHosts)],
      upstream: upstreamUrl(scheme, host, port),
      // The app's own check (Plex answers 401 on "/", so its check asks for /identity).
      healthCheck: presetHealthCheck(preset?.healthCheck ?? null),
      enabled: true,
      websocket: preset?.websocket ?? true,
      insecureUpstreamTls,
      rewriteHost: null,
      trustedProxies: null,
      tls: { mode: 'local', certificateId: null, redirectHttp: false, hsts: false },
      publishOnLan: true,
      // The app, when identified: its sign-in paths get the tighter login limit (docs/limits.md).
      app: preset?.id ?? null,
      // A discovered service starts reachable from this network only, like every new route.
      access: defaultRouteAccess(),
    },
    origin: `${identification?.app ?? instance ?? 'the service'} at ${hostPort}`,
    evidence: identification?.evidence ?? [],
    notes: presetNotes(preset ?? null),
    back: '/discovery',
  };
}

/** `host:port` of an upstream URL, the port filled in from the scheme; null when it cannot be read. */
function upstreamHostPort(upstream: string): string | null {
  try {
    const url = new URL(upstream);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return `${url.hostname.replace(/^\[|\]$/g, '').toLowerCase()}:${port}`;
  } catch {
    return null;
  }
}

/**
 * The routes that already forward to what "Map it" was pressed on: a discovered service's routeIds
 * (the gateway matched its addresses), or the routes whose upstream is a probed address and port.
 */
export function existingRoutes<R extends Pick<Route, 'id' | 'upstreams'>>(source: MapItSource, routes: readonly R[]): R[] {
  if (source.kind === 'service') return routes.filter((route) => source.service.routeIds.includes(route.id));
  const target = `${source.address.replace(/^\[|\]$/g, '').toLowerCase()}:${source.port.port}`;
  return routes.filter((route) => route.upstreams.some((upstream) => upstreamHostPort(upstream.url) === target));
}

/** "Jellyfin already has a route: jellyfin.local"; null when no route forwards to it. */
export function alreadyMappedText(source: MapItSource, routes: readonly Pick<Route, 'names'>[]): string | null {
  if (routes.length === 0) return null;
  // A recognised app by its name; otherwise what the person saw in the row (an unrecognised page's
  // "Web service (HTTP 200)" names nothing).
  const identification = identificationOf(source);
  const app = identification?.presetId ? identification.app : null;
  const what = source.kind === 'service' ? (app ?? source.service.name) : app ? `${app} (port ${source.port.port})` : `Port ${source.port.port}`;
  const names = routes.map((route) => route.names[0] ?? '').filter((name) => name !== '');
  const plural = routes.length === 1 ? 'a route' : `${routes.length} routes`;
  return names.length > 0 ? `${what} already has ${plural}: ${names.join(', ')}` : `${what} already has ${plural}`;
}
