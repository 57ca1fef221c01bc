// The discovery half of FakeGatehouse: a home lab's services seen over mDNS, a few presets, host
// probes with fixed answers, and the routes' published .local names (with a conflict on demand).
// Shaped like the real gateway's answers (DiscoveryOverview, HostProbe), and it sends the
// `discovery` event whenever what it would show changes. Never part of the shipped bundle.
import { lanPublishableNames, multiLabelLocalWarning, type GeneralSettings, type Route } from '../../shared/model.js';
import type { AppPreset, DiscoveredService, DiscoveryOverview, HostProbe, Identification, ProbedPort, Problem, ProxyStatus, PublishedName } from '../../shared/status.js';

const source = (path: string) => `https://github.com/${path}`;

/** A few of the presets the real table has, with the same shape. */
export function samplePresets(): AppPreset[] {
  const preset = (fields: Partial<AppPreset> & Pick<AppPreset, 'id' | 'app' | 'suggestedName' | 'defaultPorts' | 'source'>): AppPreset => ({
    scheme: 'http',
    websocket: false,
    insecureUpstreamTls: false,
    healthCheck: null,
    largeUploads: false,
    notes: null,
    ...fields,
  });
  return [
    preset({ id: 'jellyfin', app: 'Jellyfin', suggestedName: 'jellyfin', defaultPorts: [8096, 8920], websocket: true, largeUploads: true, source: source('jellyfin/jellyfin') }),
    preset({ id: 'home-assistant', app: 'Home Assistant', suggestedName: 'homeassistant', defaultPorts: [8123], websocket: true, healthCheck: { path: '/manifest.json', statusFrom: 200, statusTo: 299, bodyContains: null }, notes: 'Home Assistant refuses proxied requests until this machine is listed under http: trusted_proxies in its configuration.yaml.', source: source('home-assistant/core') }),
    preset({ id: 'proxmox-ve', app: 'Proxmox VE', suggestedName: 'pve', defaultPorts: [8006], scheme: 'https', websocket: true, insecureUpstreamTls: true, largeUploads: true, source: 'https://pve.proxmox.com/wiki/Proxmox_VE_API' }),
    preset({ id: 'synology-dsm', app: 'Synology DSM', suggestedName: 'nas', defaultPorts: [5000, 5001], websocket: true, largeUploads: true, source: 'https://kb.synology.com/en-global/DSM/tutorial/What_network_ports_are_used_by_Synology_services' }),
    preset({ id: 'grafana', app: 'Grafana', suggestedName: 'grafana', defaultPorts: [3000], websocket: true, source: source('grafana/grafana') }),
    preset({ id: 'plex', app: 'Plex Media Server', suggestedName: 'plex', defaultPorts: [32400], healthCheck: { path: '/identity', statusFrom: 200, statusTo: 299, bodyContains: 'MediaContainer' }, source: 'https://github.com/ben221199/API-Documentation' }),
    preset({ id: 'pi-hole', app: 'Pi-hole', suggestedName: 'pihole', defaultPorts: [80], source: source('pi-hole/web') }),
  ];
}

function identified(presetId: string | null, app: string, scheme: 'http' | 'https', evidence: string[]): Identification {
  return { presetId, app, scheme, evidence };
}

const minutesAgo = (now: Date, minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();

/** A home lab as mDNS sees it, most recently first seen first. `routeIds` is filled in by the fake. */
export function sampleServices(now: Date): DiscoveredService[] {
  const service = (fields: Omit<DiscoveredService, 'id' | 'txt' | 'routeIds'> & { txt?: Record<string, string> }): DiscoveredService => ({
    id: `${fields.host}:${fields.port}`.toLowerCase(),
    txt: {},
    routeIds: [],
    ...fields,
  });
  return [
    service({
      name: 'Home Assistant',
      types: ['_home-assistant._tcp', '_http._tcp'],
      host: 'homeassistant.local',
      addresses: ['10.33.0.20', 'fe80::a00:27ff:fe4e:66a1'],
      port: 8123,
      txt: { version: '2026.11.2', base_url: 'http://10.33.0.20:8123' },
      firstSeen: minutesAgo(now, 2),
      lastSeen: minutesAgo(now, 0),
      identification: identified('home-assistant', 'Home Assistant', 'http', ['mDNS type _home-assistant._tcp', 'GET /manifest.json: name "Home Assistant"']),
    }),
    service({
      name: 'Living Room TV',
      types: ['_googlecast._tcp'],
      host: 'living-room-tv.local',
      addresses: ['10.33.0.31'],
      port: 8009,
      firstSeen: minutesAgo(now, 12),
      lastSeen: minutesAgo(now, 1),
      identification: null,
    }),
    service({
      name: 'DiskStation',
      types: ['_http._tcp', '_smb._tcp'],
      host: 'diskstation.local',
      addresses: ['10.33.0.5'],
      port: 5000,
      firstSeen: minutesAgo(now, 40),
      lastSeen: minutesAgo(now, 0),
      identification: identified('synology-dsm', 'Synology DSM', 'http', ['title "Synology DiskStation"', 'GET /webapi/query.cgi: SYNO.API.Info']),
    }),
    service({
      name: 'pve web interface',
      types: ['_https._tcp'],
      host: 'pve.local',
      addresses: ['10.33.0.9'],
      port: 8006,
      firstSeen: minutesAgo(now, 95),
      lastSeen: minutesAgo(now, 3),
      identification: identified('proxmox-ve', 'Proxmox VE', 'https', ['title "pve - Proxmox Virtual Environment"', 'Server: pve-api-daemon/3.0']),
    }),
    service({
      name: 'Brother HL-L2350DW',
      types: ['_ipp._tcp'],
      host: 'brother.local',
      addresses: ['10.33.0.40'],
      port: 631,
      firstSeen: minutesAgo(now, 300),
      lastSeen: minutesAgo(now, 4),
      identification: null,
    }),
  ];
}

const jellyfin = (scheme: 'http' | 'https') =>
  identified('jellyfin', 'Jellyfin', scheme, ['GET /System/Info/Public: ProductName "Jellyfin Server", Version "10.10.0"', 'title "Jellyfin"']);

/** What "Probe a host" finds at each address the fake knows; every other address has no open port. */
export function sampleProbeAnswers(): Map<string, ProbedPort[]> {
  return new Map([
    [
      '10.33.0.4',
      [
        { port: 22, scheme: null, identification: null },
        { port: 8096, scheme: 'http', identification: jellyfin('http') },
        { port: 8920, scheme: 'https', identification: jellyfin('https') },
      ],
    ],
    [
      '10.33.0.9',
      [
        { port: 22, scheme: null, identification: null },
        { port: 8006, scheme: 'https', identification: identified('proxmox-ve', 'Proxmox VE', 'https', ['title "pve - Proxmox Virtual Environment"']) },
      ],
    ],
  ]);
}

/** The ports the fake says it tries when none are given (a stand-in for the real list). */
const USUAL_PORTS = [22, 80, 443, 3000, 5000, 5001, 8006, 8080, 8096, 8123, 8443, 8920, 9000, 9443];

export interface FakeDiscoveryHost {
  routes: () => Route[];
  settings: () => GeneralSettings;
  status: () => ProxyStatus;
  emit: (overview: DiscoveryOverview) => void;
}

export class FakeDiscovery {
  services: DiscoveredService[];
  presets: AppPreset[] = samplePresets();
  probeAnswers = sampleProbeAnswers();
  /** Names another device on the LAN holds: published, they end in a conflict. */
  takenNames = new Set<string>();
  /** Set: the mDNS socket could not be opened. */
  failure: Problem | null = null;
  readonly #host: FakeDiscoveryHost;

  constructor(host: FakeDiscoveryHost, services: DiscoveredService[] = []) {
    this.#host = host;
    this.services = services;
  }

  overview(): DiscoveryOverview {
    const routes = this.#host.routes();
    const on = this.#host.settings().lan.mdns;
    const state = !on ? 'off' : this.failure ? 'failed' : 'browsing';
    return {
      state,
      problem: state === 'failed' ? this.failure : null,
      serviceTypes: ['_http._tcp', '_https._tcp', '_home-assistant._tcp', '_googlecast._tcp', '_ipp._tcp', '_smb._tcp'],
      services: state === 'browsing' ? this.services.map((service) => ({ ...service, routeIds: routesTo(service, routes) })) : [],
      published: routes.flatMap((route) => (route.publishOnLan ? lanPublishableNames(route.names).map((name) => this.#published(route, name, state === 'browsing')) : [])),
    };
  }

  #published(route: Route, name: string, running: boolean): PublishedName {
    const addresses = this.#host.status().lanAddresses;
    const base = { routeId: route.id, name, addresses, problem: null, suggestion: null, warning: multiLabelLocalWarning(name) };
    if (!running) return { ...base, state: 'stopped', problem: { code: 'mdns_off', message: 'multicast DNS is turned off in Settings' } };
    if (!this.takenNames.has(name)) return { ...base, state: 'announced' };
    const suggestion = name.replace(/\.local$/, '-2.local');
    return {
      ...base,
      state: 'conflict',
      problem: { code: 'name_conflict', message: `another device on the LAN (10.33.0.77) already answers for ${name}`, fix: `Rename the other device, or use ${suggestion} for this route.` },
      suggestion,
    };
  }

  /** Something the overview shows changed: tell the listeners. */
  changed(): void {
    this.#host.emit(this.overview());
  }

  /** A service announced itself (or announced again). */
  announce(service: DiscoveredService): void {
    this.services = [service, ...this.services.filter((existing) => existing.id !== service.id)];
    this.changed();
  }

  /** A service said goodbye, or its records expired. */
  withdraw(id: string): void {
    this.services = this.services.filter((service) => service.id !== id);
    this.changed();
  }

  probe(address: string, ports?: number[]): HostProbe {
    const known = this.probeAnswers.get(address) ?? [];
    const tried = ports ?? USUAL_PORTS;
    const open = known.filter((answer) => ports === undefined || ports.includes(answer.port));
    return { address, portsTried: tried.length, open, tookMs: 1200 + 40 * tried.length };
  }
}

/** Routes whose upstream is one of the service's addresses and its port. */
function routesTo(service: DiscoveredService, routes: readonly Route[]): string[] {
  const targets = new Set(service.addresses.map((address) => `${address.includes(':') ? `[${address}]` : address}:${service.port}`));
  const hostPort = (upstream: string) => {
    const url = new URL(upstream);
    return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  };
  return routes.filter((route) => route.upstreams.some((upstream) => targets.has(hostPort(upstream.url)))).map((route) => route.id);
}
