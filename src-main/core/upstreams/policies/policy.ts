// What a selection policy is: one method that chooses among a route's candidate upstreams. The
// Balancer (../balancer.ts) decides who the candidates are (available primaries, else available
// backups; never drained or already tried) and hands them over as a bit set, so a pick allocates
// nothing: a route has at most 16 upstreams (MAX_UPSTREAMS), bit i standing for upstreams[i].
// A policy is built once per provisioned route with that route's list, and keeps whatever state it
// needs (round robin's counters) for as long as the route is unchanged.

/** What a pick may look at about the request. */
export interface PickRequest {
  /** The client's key (its address; an IPv6 /64), for client_hash. */
  readonly clientKey: string;
  /** The sticky cookie's value, if the request carried one (sticky_cookie only). */
  readonly stickyTag: string | null;
}

/** Bit i set: the route's upstream i is a candidate. Never 0 when handed to a policy. */
export type Candidates = number;

export interface Policy {
  /** The index (in the route's list) of the upstream to use: always one whose bit is set. */
  choose(candidates: Candidates, request: PickRequest): number;
}

export function has(candidates: Candidates, index: number): boolean {
  return (candidates & (1 << index)) !== 0;
}

/** The first candidate in route order. */
export function firstOf(candidates: Candidates): number {
  return 31 - Math.clz32(candidates & -candidates);
}
