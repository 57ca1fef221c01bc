// round_robin: nginx's smooth weighted round robin. Each pick adds every candidate's weight to its
// running score, takes the highest (the first in route order on a tie) and takes the candidates'
// total weight off the winner. It is deterministic and spreads a heavy upstream's turns between the
// others' (weights 5/1/1 give a a b a c a a, not a a a a a b c). An upstream that is out keeps its
// score frozen and the others go on among themselves, so its absence skews nobody's share.
import type { Candidates, Policy } from './policy.js';

export class WeightedRoundRobin implements Policy {
  private readonly weights: Int32Array;
  /** Running scores: stay within ±(sum of weights), so they never overflow. */
  private readonly current: Int32Array;

  constructor(weights: readonly number[]) {
    this.weights = Int32Array.from(weights);
    this.current = new Int32Array(weights.length);
  }

  choose(candidates: Candidates): number {
    const { weights, current } = this;
    let best = -1;
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      if ((candidates & (1 << i)) === 0) continue;
      const weight = weights[i] as number;
      current[i] = (current[i] as number) + weight;
      total += weight;
      if (best < 0 || (current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - total;
    return best;
  }
}
