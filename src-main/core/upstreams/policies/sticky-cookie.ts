// sticky_cookie: a browser that carries a tag (../sticky-tag.ts) naming one of the candidates goes
// back to that upstream; any other browser (no cookie, a tag of another route or of a removed
// upstream, or its upstream down, drained or already tried for this request) is placed by
// weighted round robin, and the Balancer re-pins it to where it went. Unlike Traefik's, a cookie
// never keeps a client on an upstream that cannot serve it.
import type { StickyTags } from '../sticky-tag.js';
import { has, type Candidates, type PickRequest, type Policy } from './policy.js';
import { WeightedRoundRobin } from './round-robin.js';

export class StickyCookie implements Policy {
  private readonly tags: StickyTags;
  private readonly newcomers: WeightedRoundRobin;

  constructor(tags: StickyTags, weights: readonly number[]) {
    this.tags = tags;
    this.newcomers = new WeightedRoundRobin(weights);
  }

  choose(candidates: Candidates, request: PickRequest): number {
    const pinned = this.tags.indexOf(request.stickyTag);
    return pinned >= 0 && has(candidates, pinned) ? pinned : this.newcomers.choose(candidates);
  }
}
