// Picking a route's upstream for one attempt of a request: the policy (policies/) chooses among the
// available primaries, then the available backups; drained upstreams are never picked; when none is
// available, the one that failed least recently is tried anyway (a wrong health check never takes a
// working service offline). One Balancer per provisioned route: a settings change builds new ones.
//
// FOUNDATION STUB: picks the first upstream not drained and not tried. The policies replace it.
import type { Balancing } from '../../../shared/upstreams.js';
import type { RouteUpstream } from '../proxy/route-table.js';
import type { HealthView } from './health-view.js';

/** What a pick may look at about the request. */
export interface PickRequest {
  /** The client's key (its address; an IPv6 /64), for client_hash. */
  readonly clientKey: string;
  /** The sticky cookie's value, if the request carried one (sticky_cookie only). */
  readonly stickyTag: string | null;
}

export interface Picked {
  readonly choice: RouteUpstream;
  /** No upstream was available: this one is tried because it failed least recently. */
  readonly lastResort: boolean;
  /** sticky_cookie: the tag to set in the response's cookie (the pick changed or was new); else null. */
  readonly setStickyTag: string | null;
}

export class Balancer {
  constructor(
    readonly routeId: string,
    readonly upstreams: readonly RouteUpstream[],
    readonly balancing: Readonly<Balancing>,
    private readonly health: HealthView,
    /** Keys the sticky cookie's tags, so a tag names no address and cannot be forged for another. */
    private readonly stickyKey: Buffer,
  ) {}

  /**
   * The upstream for the next attempt, never one in `tried`; null when none is left (every
   * upstream drained, or tried already).
   */
  pick(request: PickRequest, tried: ReadonlySet<RouteUpstream>): Picked | null {
    void request;
    void this.health;
    void this.stickyKey;
    const choice = this.upstreams.find((item) => !item.target.drained && !tried.has(item));
    return choice ? { choice, lastResort: false, setStickyTag: null } : null;
  }
}
