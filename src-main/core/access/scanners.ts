// Scanner blocking: a request for a well-known probe (scanner-probes.ts) is answered 404, as if
// nothing were there, so the scanner learns nothing; an address that sends
// `settings.scannerBan.probes` of them within `windowSeconds` is banned for `banSeconds` on every
// route (the access pass asks the Reputation this guard is a BanSource of).
//
// Never an address on this machine's own networks: their probes are answered 404 like anyone's
// (a probe is a probe), but nothing is counted and no ban starts. A ban on the owner's own network
// is the failure people fear most from CrowdSec; here it cannot happen. A probe through a proxy
// nobody listed (PassRequest.viaUnknownProxy) is not the owner's: it is counted under the proxy's
// address, and the ban refuses only requests through that proxy (route-judge.ts exempts the rest).
//
// A client is counted and banned by clientKey (client-key.ts): an IPv6 address by its /64, so a
// ban covers every address the scanner's provider handed it, and hopping among them starts no fresh
// count. The refusal and the log keep the full address.
//
// Memory is bounded: hit counts live in a fixed-size table (SCANNER_HIT_CAPACITY addresses), bans
// in a map of at most BAN_CAPACITY addresses (when full, the oldest ban goes first: it ends soonest).
import type { AccessSettings, ActiveBan } from '../../../shared/access.js';
import type { Route } from '../../../shared/model.js';
import { presetById } from '../discovery/presets.js';
import { ProxyError } from '../proxy/errors.js';
import type { RequestPass } from '../proxy/passes/pass.js';
import type { ProvisionedRoute } from '../proxy/route-table.js';
import { BoundedTable } from './bounded-table.js';
import { unknownProxyAdvice } from './client-address.js';
import { clientKey } from './client-key.js';
import type { AccessContext } from './context.js';
import type { AccessPiece } from './piece.js';
import type { BanSource } from './reputation.js';
import { probeIn, type Probe } from './scanner-probes.js';

/** Addresses whose probes are counted at once. */
export const SCANNER_HIT_CAPACITY = 20_000;
/** Bans held at once. */
export const BAN_CAPACITY = 10_000;

interface Ban {
  /** ms since the epoch. */
  until: number;
  reason: string;
}

export class ScannerGuard implements AccessPiece, BanSource {
  readonly source = 'scanner' as const;
  private settings: AccessSettings['scannerBan'] = { probes: 3, windowSeconds: 600, banSeconds: 3600 };
  /** Per clientKey: a = when its counting window started (ms), b = probes in it. */
  private readonly hits: BoundedTable;
  /** clientKey → ban, oldest first (Map keeps insertion order). */
  private readonly banList = new Map<string, Ban>();

  constructor(
    private readonly context: () => AccessContext,
    /** Told when a ban starts (the Access page lists bans). */
    private readonly onChange: () => void = () => {},
    /** Milliseconds; tests give their own. */
    private readonly clock: () => number = Date.now,
  ) {
    // A count whose window is over is worthless: the next probe starts a new one.
    this.hits = new BoundedTable(SCANNER_HIT_CAPACITY, (table, slot, now) => now - (table.a[slot] as number) >= this.settings.windowSeconds * 1000);
  }

  apply(settings: AccessSettings): void {
    this.settings = settings.scannerBan;
  }

  passFor(route: Route, base: Omit<ProvisionedRoute, 'passes'>): RequestPass | null {
    if (!route.access.blockScanners) return null;
    // WordPress and phpMyAdmin probes only where the app is known not to be either (scanner-probes.ts).
    const appKnown = route.app !== null && presetById(route.app) !== undefined;
    return {
      name: 'scanners',
      run: (request) => {
        const probe = probeIn(request.target.path, appKnown);
        if (probe === null) return undefined;
        const outsider = request.viaUnknownProxy === true;
        this.count(request.client, probe, outsider);
        const advice = outsider ? ` ${unknownProxyAdvice(request)}` : '';
        return new ProxyError('scanner_probe', `${request.client} asked ${base.title} for ${request.target.path}, a well-known scanner probe (${probe.name}). ${probe.why}${advice}`, { rule: `scanner: ${probe.name}` });
      },
    };
  }

  /** The ban in force for `address`: its own, or (IPv6) its /64's. */
  banned(address: string): Ban | null {
    return this.bannedKey(clientKey(address));
  }

  private bannedKey(key: string): Ban | null {
    const ban = this.banList.get(key);
    if (ban === undefined) return null;
    if (ban.until <= this.clock()) {
      this.banList.delete(key);
      return null;
    }
    return ban;
  }

  /** Bans in force, newest first, at most `limit`. */
  bans(limit = 100): ActiveBan[] {
    const now = this.clock();
    const out: ActiveBan[] = [];
    const entries = [...this.banList.entries()];
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      const [address, ban] = entries[i] as [string, Ban];
      if (ban.until <= now) {
        this.banList.delete(address);
        continue;
      }
      out.push({ address, source: 'scanner', reason: ban.reason, until: new Date(ban.until).toISOString() });
    }
    return out;
  }

  /**
   * Lifts the ban on `address` (and forgets its probes); false when there was none. An IPv6 address
   * or its /64 as the ban list shows it ("2001:db8:1:2::/64") lifts the ban on the whole /64.
   */
  lift(address: string): boolean {
    const key = liftKey(address);
    this.hits.delete(key);
    const lifted = this.bannedKey(key) !== null;
    this.banList.delete(key);
    return lifted;
  }

  /**
   * One probe from `address`: counted, and a ban when it is one too many. Never for this machine's
   * networks, unless the request came through a proxy nobody listed (`outsider`): then the proxy's
   * address is counted and banned, which the owner's own requests from it are exempt from.
   */
  private count(address: string, probe: Probe, outsider: boolean): void {
    const { probes, windowSeconds, banSeconds } = this.settings;
    if (probes === 0) return;
    if (!outsider && this.context().ownNetworks.isOwnNetwork(address)) return;
    const key = clientKey(address);
    const now = this.clock();
    let slot = this.hits.find(key);
    if (slot === -1 || now - (this.hits.a[slot] as number) >= windowSeconds * 1000) {
      if (slot === -1) slot = this.hits.insert(key, now);
      this.hits.a[slot] = now;
      this.hits.b[slot] = 0;
    }
    const seen = (this.hits.b[slot] as number) + 1;
    this.hits.b[slot] = seen;
    if (seen < probes) return;
    this.hits.delete(key);
    this.ban(key, { until: now + banSeconds * 1000, reason: `${seen} scanner probes within ${windowSeconds} s, the last ${probe.name}` });
  }

  /** Bans `key` (a clientKey). */
  private ban(key: string, ban: Ban): void {
    this.banList.delete(key);
    if (this.banList.size >= BAN_CAPACITY) {
      const oldest = this.banList.keys().next().value as string;
      this.banList.delete(oldest);
    }
    this.banList.set(key, ban);
    this.onChange();
  }
}

/** The ban-list key `lift` was given: an address's clientKey, or a /64 written any way. */
function liftKey(address: string): string {
  const slash = address.indexOf('/');
  if (slash === -1) return clientKey(address);
  return address.slice(slash) === '/64' ? clientKey(address.slice(0, slash)) : address;
}
