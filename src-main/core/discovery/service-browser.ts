// Browses the LAN continuously for the documented service types (service-types.ts) with
// bonjour-service's Browser, which parses announcements (PTR → SRV, TXT, A/AAAA) and removes an
// instance on its goodbye (a PTR with TTL 0). What the Browser leaves to its user, done here:
//
// - Querying again. The Browser asks once, when created; later services are seen only if they
//   announce themselves. We re-ask for every type in one packet, 1 s after the first query and then
//   at doubling intervals up to an hour (RFC 6762 §5.2), and start over when a network comes up.
// - Expiry. Browser.expire() is never called by the library, and would judge an instance by the PTR's
//   TTL (75 minutes) from the moment it was first seen, because the Browser never refreshes lastSeen
//   when an instance answers again. We track each instance's SRV record instead (its TTL is the
//   host-record TTL, 2 minutes by default): every answer refreshes it, we ask for the SRV at 80, 85,
//   90 and 95 % of its TTL (RFC 6762 §5.2), and once it runs out we set the Browser's lastSeen/ttl
//   to match and call expire(), which emits the same 'down' as a goodbye. A goodbye for the SRV
//   alone (TTL 0) leaves it one second to live (RFC 6762 §10.1).
// - Addresses. The Browser takes A/AAAA only from the packet that carried the SRV; later A/AAAA
//   answers (or goodbyes) for the host are applied here, and a host announced without addresses is
//   asked for them.
import BonjourModule from 'bonjour-service';
import { mergeInstances, type MergedService, type SeenInstance } from './service-merge.js';
import type { MdnsRecord, MdnsSocket } from './mdns-socket.js';

const { Browser } = BonjourModule;
type Browser = BonjourModule.Browser;
type BrowsedService = BonjourModule.Service & { rawTxt?: Buffer[] };

/** The second query goes out 1 s after the first; each interval after doubles, up to an hour (RFC 6762 §5.2). */
const FIRST_REQUERY_MS = 1000;
const MAX_REQUERY_MS = 60 * 60 * 1000;
/** How often expiry and refresh are checked. */
const TICK_MS = 1000;
/** When the SRV is asked for again, as fractions of its TTL (RFC 6762 §5.2), each with up to 2 % jitter. */
const REFRESH_AT = [0.8, 0.85, 0.9, 0.95];
/** Used until an instance's SRV TTL is known: RFC 6762 §10's host-record TTL. */
const DEFAULT_TTL_MS = 120_000;

interface Tracked {
  instance: SeenInstance;
  browser: Browser;
  /** When an answer last renewed the SRV, and how long that answer said it lives. */
  renewedAt: number;
  ttlMs: number;
  refreshesSent: number;
  jitter: number;
}

/** RFC 6763 §6.4: "key=value", "key=" (empty) or "key" (a boolean attribute, present). */
export function decodeTxt(strings: readonly Buffer[] | undefined): Record<string, string> {
  const txt: Record<string, string> = {};
  for (const bytes of strings ?? []) {
    const text = bytes.toString('utf8');
    const equals = text.indexOf('=');
    const key = (equals === -1 ? text : text.slice(0, equals)).trim();
    // The first occurrence of a key wins (RFC 6763 §6.4); an empty key is ignored.
    if (key && !Object.hasOwn(txt, key.toLowerCase())) txt[key.toLowerCase()] = equals === -1 ? '' : text.slice(equals + 1);
  }
  return txt;
}

export interface ServiceBrowserOptions {
  /** "_http._tcp" and the like. */
  types: readonly string[];
  /** Called after any change to what services() returns. */
  onChange: () => void;
}

export class ServiceBrowser {
  readonly #browsers: Browser[] = [];
  readonly #tracked = new Map<string, Tracked>();
  readonly #unsubscribe: (() => void)[] = [];
  #requeryTimer: NodeJS.Timeout | null = null;
  #requeryInterval = FIRST_REQUERY_MS;
  #ticker: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: MdnsSocket,
    private readonly options: ServiceBrowserOptions,
  ) {}

  /** Sends the first query for every type now, then keeps browsing until stop(). */
  start(): void {
    for (const type of this.options.types) {
      const [name, protocol] = type.replace(/^_/, '').split('._') as [string, 'tcp' | 'udp'];
      // Creating a Browser sends its first PTR query at once: a service shows within a round trip.
      const browser = new Browser(this.socket.mdns, { type: name, protocol });
      browser.on('up', (service) => this.#up(type, browser, service as BrowsedService));
      browser.on('down', (service) => this.#remove(service.fqdn));
      browser.on('srv-update', (service) => this.#updated(service as BrowsedService));
      browser.on('txt-update', (service) => this.#updated(service as BrowsedService));
      this.#browsers.push(browser);
    }
    // Registered after the Browsers', so an answer is parsed by them before it renews anything here.
    this.#unsubscribe.push(this.socket.onResponse((packet) => this.#renew([...packet.answers, ...packet.additionals])));
    this.#unsubscribe.push(
      this.socket.onNetworkChange(() => {
        this.#requeryInterval = FIRST_REQUERY_MS;
        this.#scheduleRequery(0);
      }),
    );
    this.#scheduleRequery(FIRST_REQUERY_MS);
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    this.#ticker.unref();
  }

  stop(): void {
    for (const browser of this.#browsers) browser.stop();
    this.#browsers.length = 0;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    if (this.#requeryTimer) clearTimeout(this.#requeryTimer);
    if (this.#ticker) clearInterval(this.#ticker);
    this.#requeryTimer = this.#ticker = null;
    const hadServices = this.#tracked.size > 0;
    this.#tracked.clear();
    if (hadServices) this.options.onChange();
  }

  services(): MergedService[] {
    return mergeInstances([...this.#tracked.values()].map((tracked) => tracked.instance));
  }

  #scheduleRequery(delayMs: number): void {
    if (this.#requeryTimer) clearTimeout(this.#requeryTimer);
    this.#requeryTimer = setTimeout(() => {
      void this.socket.query({ questions: this.options.types.map((type) => ({ name: `${type}.local`, type: 'PTR' as const })) });
      this.#requeryInterval = Math.min(this.#requeryInterval * 2, MAX_REQUERY_MS);
      this.#scheduleRequery(this.#requeryInterval);
    }, delayMs);
    this.#requeryTimer.unref();
  }

  #up(type: string, browser: Browser, service: BrowsedService): void {
    // Port 0 is how a device says "nothing to connect to here".
    if (!service.port) return;
    const now = Date.now();
    const key = service.fqdn.toLowerCase();
    const addresses = service.addresses?.length ? [...service.addresses] : service.referer ? [service.referer.address] : [];
    this.#tracked.set(key, {
      instance: { fqdn: service.fqdn, name: service.name, type, host: service.host, port: service.port, addresses, txt: decodeTxt(service.rawTxt), firstSeen: now, lastSeen: now },
      browser,
      renewedAt: now,
      ttlMs: DEFAULT_TTL_MS,
      refreshesSent: 0,
      jitter: Math.random() * 0.02,
    });
    // Announced without its addresses (they came in another packet, or not at all): ask the host.
    if (!service.addresses?.length) {
      void this.socket.query({ questions: [{ name: service.host, type: 'A' }, { name: service.host, type: 'AAAA' }] });
    }
    this.options.onChange();
  }

  #updated(service: BrowsedService): void {
    const tracked = this.#tracked.get(service.fqdn.toLowerCase());
    if (!tracked) return;
    const instance = tracked.instance;
    instance.name = service.name;
    instance.host = service.host;
    instance.port = service.port;
    instance.txt = decodeTxt(service.rawTxt);
    if (service.addresses?.length) instance.addresses = [...service.addresses];
    instance.lastSeen = Date.now();
    this.options.onChange();
  }

  #remove(fqdn: string): void {
    if (this.#tracked.delete(fqdn.toLowerCase())) this.options.onChange();
  }

  /** Applies what an answer says about instances already known: alive again, gone, new addresses. */
  #renew(records: readonly MdnsRecord[]): void {
    if (this.#tracked.size === 0) return;
    const now = Date.now();
    let changed = false;
    for (const record of records) {
      const name = record.name.toLowerCase();
      const ttl = 'ttl' in record ? (record.ttl ?? 0) : 0;
      if (record.type === 'SRV' || record.type === 'TXT' || record.type === 'PTR') {
        const tracked = this.#tracked.get(record.type === 'PTR' ? String(record.data).toLowerCase() : name);
        if (!tracked) continue;
        if (ttl > 0) {
          tracked.renewedAt = now;
          tracked.refreshesSent = 0;
          tracked.instance.lastSeen = now;
          if (record.type === 'SRV') tracked.ttlMs = ttl * 1000;
          changed = true;
        } else if (record.type === 'SRV') {
          // A goodbye for the SRV alone: it lives one more second (RFC 6762 §10.1).
          tracked.renewedAt = now;
          tracked.ttlMs = 1000;
        }
      } else if (record.type === 'A' || record.type === 'AAAA') {
        for (const tracked of this.#tracked.values()) {
          if (tracked.instance.host.toLowerCase() !== name) continue;
          const address = String(record.data);
          const addresses = tracked.instance.addresses;
          if (ttl > 0 && !addresses.includes(address)) tracked.instance.addresses = [...addresses, address];
          else if (ttl === 0 && addresses.includes(address)) tracked.instance.addresses = addresses.filter((known) => known !== address);
          else continue;
          changed = true;
        }
      }
    }
    if (changed) this.options.onChange();
  }

  /** Asks again for instances nearing the end of their TTL, and expires those past it. */
  #tick(): void {
    const now = Date.now();
    const due: string[] = [];
    for (const tracked of this.#tracked.values()) {
      const age = (now - tracked.renewedAt) / tracked.ttlMs;
      const next = REFRESH_AT[tracked.refreshesSent];
      if (age < 1 && next !== undefined && age >= next + tracked.jitter) {
        tracked.refreshesSent += 1;
        due.push(tracked.instance.fqdn);
      }
      // What expire() judges by: the last renewal and the SRV's TTL, not the first sighting and the PTR's.
      const service = tracked.browser.services.find((candidate) => candidate.fqdn.toLowerCase() === tracked.instance.fqdn.toLowerCase());
      if (service) {
        service.lastSeen = tracked.renewedAt;
        service.ttl = tracked.ttlMs / 1000;
      } else if (age >= 1) {
        this.#remove(tracked.instance.fqdn);
      }
    }
    for (const browser of this.#browsers) browser.expire();
    if (due.length > 0) void this.socket.query({ questions: due.map((fqdn) => ({ name: fqdn, type: 'SRV' as const })) });
  }
}
