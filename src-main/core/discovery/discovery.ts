// Discovery as the gateway sees it: one object that browses the LAN, publishes the routes' names
// and identifies what it finds, turned on and off as a whole.
//
// - mDNS is on when the setting lan.mdns is, unless GATEHOUSE_MDNS forces it off for this run (the
//   test runner does: tests run on the host network, where multicast would leave the machine).
// - A socket that cannot be opened or cannot send makes the state 'failed' with the Problem and its
//   fix; it is retried every 30 s and never throws at the gateway.
// - Names are published only while the proxy runs: they point at this machine for the proxy's sake,
//   and a name that resolves to a machine where nothing answers is worse than one that does not
//   resolve. While the proxy is stopped (or the route is off) each name is listed as 'stopped' with
//   the reason; starting the proxy probes and announces them again.
// - Every change is applied in order (one at a time), so goodbyes for a dropped name are sent before
//   the call that dropped it resolves.
import { lanPublishableNames, multiLabelLocalWarning, type Route } from '../../../shared/model.js';
import type { DiscoveredService, DiscoveryOverview, Identification, Problem, PublishedName } from '../../../shared/status.js';
import { identifyService, type IdentifyOptions, type IdentifyTarget } from './identify.js';
import { IdentificationQueue } from './identification-queue.js';
import { MdnsSocket, MdnsSocketError } from './mdns-socket.js';
import { NamePublisher, type NameToPublish } from './name-publisher.js';
import type { ServiceBrowser } from './service-browser.js';
import { routesFor, type MergedService } from './service-merge.js';
import { looksLikeWebService, serviceTypes } from './service-types.js';

/** After a socket failure, how long until mDNS is tried again. */
const RETRY_MS = 30_000;
/** How often this machine's addresses are compared with what published names answer. */
const ADDRESS_CHECK_MS = 5000;

/** Why GATEHOUSE_MDNS turns mDNS off for this run, or null when it follows the setting ("on" or unset). */
export function mdnsEnvironmentProblem(value: string | undefined): Problem | null {
  if (value === undefined || value === '' || value === 'on') return null;
  const fix = 'Start Gatehouse without GATEHOUSE_MDNS (or with GATEHOUSE_MDNS=on) to use mDNS.';
  if (value === 'off') {
    return {
      code: 'mdns_off_for_run',
      message: 'mDNS is off for this run: the environment sets GATEHOUSE_MDNS=off (the test runner does, so tests never send multicast on the host network).',
      fix,
    };
  }
  return { code: 'mdns_off_for_run', message: `mDNS is off for this run: GATEHOUSE_MDNS is "${value}", and only "on" and "off" are understood.`, fix };
}

const offInSettings: Problem = {
  code: 'mdns_off',
  message: 'mDNS is turned off in Settings: Gatehouse neither looks for services on the LAN nor answers for route names.',
  fix: 'Turn mDNS on in Settings (LAN) to see services and publish names.',
};

export interface DiscoveryOptions {
  routes: () => readonly Route[];
  proxyRunning: () => boolean;
  /** The addresses published names answer with: this machine's LAN addresses the proxy listens on. */
  publishAddresses: () => string[];
  /** Called after any change to overview(). */
  onChange: () => void;
  /** From GATEHOUSE_MDNS (see mdnsEnvironmentProblem). */
  forcedOff: Problem | null;
  /** The IPv4 address of the interface mDNS uses. Default: every interface. */
  interfaceAddress?: string;
  /** Default: identifyService from identify.ts. */
  identify?: (target: IdentifyTarget, options: IdentifyOptions) => Promise<Identification | null>;
}

interface Running {
  socket: MdnsSocket;
  browser: ServiceBrowser;
  publisher: NamePublisher;
  identifications: IdentificationQueue;
}

export class Discovery {
  #enabled = false;
  #closed = false;
  #running: Running | null = null;
  #failure: Problem | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #addressTimer: NodeJS.Timeout | null = null;
  #publishedWith: string[] = [];
  #changes: Promise<void> = Promise.resolve();

  constructor(private readonly options: DiscoveryOptions) {}

  /** Follows the lan.mdns setting: starts or stops browsing and publishing (goodbyes sent before it resolves). */
  setEnabled(enabled: boolean): Promise<void> {
    this.#enabled = enabled;
    return this.refresh();
  }

  /** Applies the current routes, proxy state and addresses to what is published. */
  refresh(): Promise<void> {
    const next = this.#changes.then(() => this.#sync());
    this.#changes = next.catch((error: unknown) => console.error('gatehouse: updating mDNS failed:', error));
    return this.#changes;
  }

  /** Stops everything; every announced name gets its goodbye before this resolves. */
  close(): Promise<void> {
    this.#closed = true;
    return this.refresh();
  }

  overview(): DiscoveryOverview {
    const state = this.#state();
    const services = this.#running?.browser.services() ?? [];
    return {
      state,
      problem: this.options.forcedOff ?? (this.#enabled ? this.#failure : offInSettings),
      serviceTypes: [...serviceTypes],
      services: services.map((service) => this.#service(service)),
      published: this.#published(state),
    };
  }

  #state(): DiscoveryOverview['state'] {
    if (this.options.forcedOff || !this.#enabled) return 'off';
    return this.#failure ? 'failed' : 'browsing';
  }

  #service(service: MergedService): DiscoveredService {
    return { ...service, identification: this.#running?.identifications.result(service.id) ?? null, routeIds: routesFor(service, this.options.routes()) };
  }

  #published(state: DiscoveryOverview['state']): PublishedName[] {
    const running = this.options.proxyRunning();
    const addresses = this.options.publishAddresses();
    return this.options.routes().flatMap((route) =>
      route.publishOnLan
        ? lanPublishableNames(route.names).map((name): PublishedName => {
            const base = { routeId: route.id, name, warning: multiLabelLocalWarning(name), suggestion: null, addresses: [] };
            const stopped = (problem: Problem): PublishedName => ({ ...base, state: 'stopped', problem });
            if (state !== 'browsing') return stopped(this.#stoppedBecause(state));
            if (!route.enabled) return stopped({ code: 'route_off', message: 'The route is turned off, so its name is not published.', fix: 'Turn the route on to publish its name.' });
            if (!running) {
              return stopped({ code: 'proxy_stopped', message: 'The proxy is stopped. Names are published only while it runs, since they point at it.', fix: 'Start the proxy to publish this name.' });
            }
            if (addresses.length === 0) {
              return stopped({ code: 'no_lan_address', message: 'This machine has no LAN address to answer with.', fix: 'Connect it to your network (Ethernet or Wi-Fi).' });
            }
            const claim = this.#running?.publisher.state(name);
            return claim ? { ...base, ...claim } : { ...base, state: 'probing', problem: null, addresses };
          })
        : [],
    );
  }

  #stoppedBecause(state: DiscoveryOverview['state']): Problem {
    if (this.options.forcedOff) return this.options.forcedOff;
    if (state === 'off') return offInSettings;
    return this.#failure ?? offInSettings;
  }

  /** The names to publish now: each enabled route's `.local` names while the proxy runs. */
  #targets(): NameToPublish[] {
    if (!this.options.proxyRunning()) return [];
    return this.options.routes().flatMap((route) => (route.enabled && route.publishOnLan ? lanPublishableNames(route.names).map((name) => ({ routeId: route.id, name })) : []));
  }

  async #sync(): Promise<void> {
    const wanted = this.#enabled && !this.options.forcedOff && !this.#closed;
    if (!wanted) {
      await this.#stop();
      this.#failure = null;
      this.options.onChange();
      return;
    }
    if (!this.#running && !this.#retryTimer) await this.#start();
    const running = this.#running;
    if (!running) return;
    this.#publishedWith = this.options.publishAddresses();
    await running.publisher.set(this.#targets(), this.#publishedWith);
    this.options.onChange();
  }

  async #start(): Promise<void> {
    // bonjour-service (through service-browser.ts) is imported when mDNS starts, so a run with mDNS
    // off never loads it (~8 MB of resident memory).
    const { ServiceBrowser } = await import('./service-browser.js');
    let socket: MdnsSocket;
    try {
      socket = await MdnsSocket.open(this.options.interfaceAddress ? { interfaceAddress: this.options.interfaceAddress } : {});
    } catch (error) {
      if (!(error instanceof MdnsSocketError)) throw error;
      this.#fail(error.problem);
      return;
    }
    this.#failure = null;
    socket.onHealth = (problem) => {
      if (JSON.stringify(problem) === JSON.stringify(this.#failure)) return;
      this.#failure = problem;
      this.options.onChange();
    };
    const identifications = new IdentificationQueue({ identify: this.options.identify ?? identifyService, onResult: () => this.options.onChange() });
    const browser = new ServiceBrowser(socket, { types: serviceTypes, onChange: () => this.#servicesChanged() });
    const publisher = new NamePublisher(socket, {
      onChange: () => this.options.onChange(),
      reservedNames: () => this.options.routes().flatMap((route) => route.names),
    });
    this.#running = { socket, browser, publisher, identifications };
    browser.start();
    this.#addressTimer = setInterval(() => {
      const now = this.options.publishAddresses();
      if (now.join() !== this.#publishedWith.join()) void this.refresh();
    }, ADDRESS_CHECK_MS);
    this.#addressTimer.unref();
  }

  #fail(problem: Problem): void {
    this.#failure = problem;
    this.options.onChange();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.refresh();
    }, RETRY_MS);
    this.#retryTimer.unref();
  }

  async #stop(): Promise<void> {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#addressTimer) clearInterval(this.#addressTimer);
    this.#retryTimer = this.#addressTimer = null;
    const running = this.#running;
    this.#running = null;
    if (!running) return;
    // Goodbyes first, while the socket is open; then nothing more goes out.
    await running.publisher.close();
    running.browser.stop();
    running.identifications.close();
    await running.socket.close();
  }

  /** New or changed services are queued for identification when they look like web services. */
  #servicesChanged(): void {
    const running = this.#running;
    if (!running) return;
    for (const service of running.browser.services()) {
      const address = service.addresses[0];
      if (!address || !looksLikeWebService(service.types)) continue;
      running.identifications.request({
        id: service.id,
        fingerprint: `${service.host}|${service.port}|${service.addresses.join(',')}`,
        target: { address, port: service.port, hostName: service.host, ...(service.types.includes('_https._tcp') ? { scheme: 'https' as const } : {}) },
      });
    }
    this.options.onChange();
  }
}
