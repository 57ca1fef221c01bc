// least_connections: the upstream with the fewest requests under way for its weight (nginx's
// least_conn: a weight-2 upstream is as busy with 4 as a weight-1 one with 2). The count is the
// address's gate, so it includes every route's requests to that server, not just this route's.
// Equal loads (an idle service: all at 0) go by weighted round robin among the tied, so they still
// spread instead of all landing on the first.
import type { Candidates, Policy } from './policy.js';
import { WeightedRoundRobin } from './round-robin.js';

/** What least_connections reads of an upstream's load: its gate (../gate.ts). */
export interface Load {
  readonly inFlight: number;
}

export class LeastConnections implements Policy {
  private readonly weights: readonly number[];
  private readonly loads: readonly Load[];
  private readonly ties: WeightedRoundRobin;

  constructor(weights: readonly number[], loads: readonly Load[]) {
    this.weights = weights;
    this.loads = loads;
    this.ties = new WeightedRoundRobin(weights);
  }

  choose(candidates: Candidates): number {
    const { weights, loads } = this;
    let best = -1;
    let tied: Candidates = 0;
    for (let i = 0; i < weights.length; i++) {
      if ((candidates & (1 << i)) === 0) continue;
      if (best < 0) {
        best = i;
        tied = 1 << i;
        continue;
      }
      // inFlight[i] / weight[i] against best's, cross-multiplied to stay in whole numbers.
      const mine = (loads[i] as Load).inFlight * (weights[best] as number);
      const theirs = (loads[best] as Load).inFlight * (weights[i] as number);
      if (mine < theirs) {
        best = i;
        tied = 1 << i;
      } else if (mine === theirs) {
        tied |= 1 << i;
      }
    }
    return tied === 1 << best ? best : this.ties.choose(tied);
  }
}
