// client_hash: the same client address goes to the same upstream, by weighted rendezvous
// (highest-random-weight) hashing: every candidate gets a pseudo-random score from the pair
// (client, upstream URL), scaled by its weight, and the highest wins. Unlike "hash mod N", an
// upstream that goes down or is removed moves only its own clients; everyone else's pick is
// unchanged, and they come back when it does. Scores depend on the URL, not the list's order, so
// reordering the upstreams moves nobody either. The weight scaling (score = -weight / ln(u), u
// uniform in (0,1)) gives each upstream a share of clients in proportion to its weight.
import type { Candidates, PickRequest, Policy } from './policy.js';

/** FNV-1a over the UTF-16 code units, then a final mix: a well-spread 32-bit hash of a string. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return mix(hash);
}

/** MurmurHash3's finalizer: every input bit affects every output bit. */
function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class ClientHash implements Policy {
  private readonly weights: readonly number[];
  /** Each upstream's URL hashed once, at provisioning. */
  private readonly seeds: Uint32Array;

  constructor(urls: readonly string[], weights: readonly number[]) {
    this.weights = weights;
    this.seeds = Uint32Array.from(urls, hashString);
  }

  choose(candidates: Candidates, request: PickRequest): number {
    const client = hashString(request.clientKey);
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < this.seeds.length; i++) {
      if ((candidates & (1 << i)) === 0) continue;
      // Two rounds, so a client and an upstream whose hashes happen to be related still score apart.
      const uniform = (mix(mix(client ^ (this.seeds[i] as number)) + (this.seeds[i] as number)) + 0.5) / 4294967296;
      const score = -(this.weights[i] as number) / Math.log(uniform);
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }
}
