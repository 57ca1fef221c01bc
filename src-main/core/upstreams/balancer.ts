// Picking a route's upstream for one attempt of a request: the policy (policies/) chooses among the
// available primaries, then the available backups; drained upstreams are never picked; when none is
// available, the one that failed least recently is tried anyway (a wrong health check never takes a
// working service offline). One Balancer per provisioned route: a settings change (a drain
// included) builds new ones, so the policy's state and the sticky tags are provisioned once there.
// pick() runs on every request: it allocates nothing (the answers are built up front) and a route
// with one upstream skips the policy altogether.
import type { Balancing } from '../../../shared/upstreams.js';
import type { RouteUpstream } from '../proxy/route-table.js';
import type { HealthView } from './health-view.js';
import { ClientHash } from './policies/client-hash.js';
import { failover } from './policies/failover.js';
import { LeastConnections } from './policies/least-connections.js';
import type { Candidates, PickRequest, Policy } from './policies/policy.js';
import { WeightedRoundRobin } from './policies/round-robin.js';
import { StickyCookie } from './policies/sticky-cookie.js';
import { StickyTags } from './sticky-tag.js';

export type { PickRequest } from './policies/policy.js';

export interface Picked {
  readonly choice: RouteUpstream;
  /** No upstream was available: this one is tried because it failed least recently. */
  readonly lastResort: boolean;
  /** sticky_cookie: the tag to set in the response's cookie (the pick changed or was new); else null. */
  readonly setStickyTag: string | null;
}

/** Candidates are a 32-bit set (policies/policy.ts); the schema allows 16 upstreams. */
const MAX_PICKABLE = 31;

function policyFor(balancing: Readonly<Balancing>, upstreams: readonly RouteUpstream[], tags: StickyTags | null): Policy {
  const weights = upstreams.map((item) => item.target.weight);
  switch (balancing.policy) {
    case 'failover':
      return failover;
    case 'round_robin':
      return new WeightedRoundRobin(weights);
    case 'least_connections':
      return new LeastConnections(
        weights,
        upstreams.map((item) => item.upstream.gate),
      );
    case 'client_hash':
      return new ClientHash(
        upstreams.map((item) => item.target.url),
        weights,
      );
    case 'sticky_cookie':
      return new StickyCookie(tags as StickyTags, weights);
  }
}

export class Balancer {
  private readonly policy: Policy;
  /** sticky_cookie only: this route's tags, in upstream order. */
  private readonly tags: StickyTags | null;
  /** Upstreams not drained. */
  private readonly pickable: Candidates;
  /** Every answer pick() can give, built once: 4 per upstream (lastResort × sets the cookie). */
  private readonly answers: readonly Picked[];

  constructor(
    readonly routeId: string,
    readonly upstreams: readonly RouteUpstream[],
    readonly balancing: Readonly<Balancing>,
    private readonly health: HealthView,
    /** Keys the sticky cookie's tags, so a tag names no address and cannot be forged for another. */
    stickyKey: Buffer,
  ) {
    if (upstreams.length > MAX_PICKABLE) throw new Error(`route ${routeId} has ${upstreams.length} upstreams; at most ${MAX_PICKABLE} can be balanced`);
    this.tags = balancing.policy === 'sticky_cookie' ? new StickyTags(stickyKey, routeId, upstreams.map((item) => item.target.url)) : null;
    this.policy = policyFor(balancing, upstreams, this.tags);
    let pickable = 0;
    const answers: Picked[] = [];
    for (const [i, choice] of upstreams.entries()) {
      if (!choice.target.drained) pickable |= 1 << i;
      const tag = this.tags?.tags[i] ?? null;
      for (const lastResort of [false, true]) {
        answers.push(Object.freeze({ choice, lastResort, setStickyTag: null }), Object.freeze({ choice, lastResort, setStickyTag: tag }));
      }
    }
    this.pickable = pickable;
    this.answers = answers;
  }

  /** The route sets and reads the sticky cookie (policy sticky_cookie). */
  get usesStickyCookie(): boolean {
    return this.tags !== null;
  }

  /**
   * The upstream for the next attempt, never one in `tried`; null when none is left (every
   * upstream drained, or tried already).
   */
  pick(request: PickRequest, tried: ReadonlySet<RouteUpstream>): Picked | null {
    const list = this.upstreams;
    if (list.length === 1) {
      const only = list[0] as RouteUpstream;
      if (this.pickable === 0 || tried.has(only)) return null;
      return this.answer(0, !this.health.isAvailable(only.upstream.address), request);
    }
    let left: Candidates = 0;
    let primaries: Candidates = 0;
    let backups: Candidates = 0;
    for (let i = 0; i < list.length; i++) {
      const bit = 1 << i;
      if ((this.pickable & bit) === 0) continue;
      const item = list[i] as RouteUpstream;
      if (tried.size !== 0 && tried.has(item)) continue;
      left |= bit;
      if (!this.health.isAvailable(item.upstream.address)) continue;
      if (item.target.backup) backups |= bit;
      else primaries |= bit;
    }
    if (left === 0) return null;
    const candidates = primaries !== 0 ? primaries : backups;
    if (candidates !== 0) return this.answer(this.policy.choose(candidates, request), false, request);
    return this.answer(this.leastRecentlyFailed(left), true, request);
  }

  /** Of `left`, the one whose last failure is oldest (never failed: 0); the first in order on a tie. */
  private leastRecentlyFailed(left: Candidates): number {
    let best = -1;
    let bestAt = Infinity;
    for (let i = 0; i < this.upstreams.length; i++) {
      if ((left & (1 << i)) === 0) continue;
      const at = this.health.lastFailedAt((this.upstreams[i] as RouteUpstream).upstream.address);
      if (at < bestAt) {
        best = i;
        bestAt = at;
      }
    }
    return best;
  }

  private answer(index: number, lastResort: boolean, request: PickRequest): Picked {
    // Sticky: (re-)pin whenever the client's tag is not the upstream it goes to now.
    const setsCookie = this.tags !== null && this.tags.tags[index] !== request.stickyTag;
    return this.answers[index * 4 + (lastResort ? 2 : 0) + (setsCookie ? 1 : 0)] as Picked;
  }
}
