// The names and addresses the admin answers to: this machine's own (loopback, its host name and
// hostname.local, every interface address, the address the admin is bound to) and the names the
// user added in admin.allowedHosts. A request for any other Host is refused, which defeats DNS
// rebinding: a web page whose name was made to resolve to this machine still sends its own name.
//
// The set is built when the settings or the machine's interfaces change; a request costs a Set
// lookup. Interfaces have no change event, so a Host that misses triggers a rebuild (at most once
// per REBUILD_AFTER_MISS_MS): an address a laptop just got is accepted without a timer running.
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces, hostname as osHostname, type NetworkInterfaceInfo } from 'node:os';

/** Shortest time between two rebuilds caused by a Host that is not in the set (ms). */
const REBUILD_AFTER_MISS_MS = 2000;

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export interface AdminHostsOptions {
  /** Extra names from admin.allowedHosts. */
  allowedHosts?: readonly string[];
  /** This machine's host name; default os.hostname(). */
  hostname?: () => string;
  /** This machine's interfaces; default os.networkInterfaces(). */
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * True for 0.0.0.0 and :: in any spelling: "every interface" as a bind address, but as a Host a page
 * reaches this machine by (browsers connect to it as if it were loopback), so a rebinding page
 * using it must find no admin there.
 */
function isUnspecified(name: string): boolean {
  if (isIPv4(name)) return name === '0.0.0.0';
  return isIPv6(name) && /^[0:]+$/.test(name);
}

/** "[::1]" for an IPv6 address, the name itself otherwise: how a host appears in Host and Origin. */
function hostForm(name: string): string {
  return name.includes(':') ? `[${name}]` : name;
}

/** The host of a Host header without its port, lower case, without a trailing dot; null when unreadable. */
export function splitHostHeader(value: string): { host: string; port: string | null } | null {
  // RFC 3986 reg-name characters, or a bracketed IPv6 literal; anything else is no host of ours.
  const match = /^(\[[0-9a-f:.]+\]|[\w.~!$&'()*+,;=%-]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!match) return null;
  return { host: match[1]!.toLowerCase().replace(/\.$/, ''), port: match[2] ?? null };
}

export class AdminHosts {
  #extra: readonly string[];
  #port: number | null = null;
  #bindAddress: string | null = null;
  /** Host forms ("name", "[::1]") this machine answers to. */
  #hosts = new Set<string>();
  /** For "*.home.arpa" in admin.allowedHosts: "home.arpa". A wildcard covers exactly one label, as in TLS and routes. */
  #wildcardParents = new Set<string>();
  #builtAt = 0;
  readonly #hostname: () => string;
  readonly #interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;

  constructor(options: AdminHostsOptions = {}) {
    this.#extra = options.allowedHosts ?? [];
    this.#hostname = options.hostname ?? osHostname;
    this.#interfaces = options.interfaces ?? networkInterfaces;
    this.#build();
  }

  /** Where the admin listens: the port every Host may carry, and the bound address. */
  setListener(address: string, port: number): void {
    this.#bindAddress = address;
    this.#port = port;
    this.#build();
  }

  setAllowedHosts(names: readonly string[]): void {
    this.#extra = [...names];
    this.#build();
  }

  /** The admin's port once it listens. */
  get port(): number | null {
    return this.#port;
  }

  /** True when `hostHeader` (name or address, with or without the admin port) is one of this machine's. */
  allowsHost(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    const parts = splitHostHeader(hostHeader);
    if (!parts || (parts.port !== null && Number(parts.port) !== this.#port)) return false;
    return this.#has(parts.host);
  }

  /**
   * True when `origin` ("https://name:port") is a page of this admin: one of its hosts, its port, and
   * `scheme` ("http:" or "https:", what the listener speaks).
   */
  allowsOrigin(origin: string, scheme: 'http:' | 'https:'): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.protocol !== scheme) return false;
    const port = url.port === '' ? (scheme === 'https:' ? 443 : 80) : Number(url.port);
    return port === this.#port && this.#has(url.hostname.replace(/\.$/, ''));
  }

  #has(host: string): boolean {
    if (this.#hosts.has(host)) return true;
    const dot = host.indexOf('.');
    if (dot > 0 && this.#wildcardParents.has(host.slice(dot + 1))) return true;
    if (Date.now() - this.#builtAt < REBUILD_AFTER_MISS_MS) return false;
    this.#build();
    return this.#hosts.has(host);
  }

  #build(): void {
    const names = new Set<string>(LOOPBACK_NAMES);
    const name = this.#hostname().toLowerCase().replace(/\.$/, '');
    if (name) {
      names.add(name);
      // A host name "box.lan" is announced over mDNS as "box.local"; a bare "box" as "box.local" too.
      names.add(`${name.split('.')[0]}.local`);
    }
    for (const list of Object.values(this.#interfaces())) {
      // A link-local IPv6 address needs a zone id, which a Host header cannot carry: its bare form is harmless.
      for (const info of list ?? []) names.add(info.address.toLowerCase());
    }
    if (this.#bindAddress) names.add(this.#bindAddress.toLowerCase());
    const extra = this.#extra.map((name) => name.toLowerCase().replace(/\.$/, ''));
    for (const name of extra.filter((name) => !name.startsWith('*.'))) names.add(name);
    this.#hosts = new Set([...names].filter((name) => !isUnspecified(name)).map(hostForm));
    this.#wildcardParents = new Set(extra.filter((name) => name.startsWith('*.')).map((name) => name.slice(2)));
    this.#builtAt = Date.now();
  }
}
