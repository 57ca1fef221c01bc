// failover: always the first available upstream in the route's order. The order is the priority:
// the second takes traffic only while the first is out, and gets none back once it returns.
import { firstOf, type Candidates, type Policy } from './policy.js';

export const failover: Policy = {
  choose(candidates: Candidates): number {
    return firstOf(candidates);
  },
};
