// Reputation: addresses refused for what they did, whoever banned them (CrowdSec's decisions, the
// scanner list's bans). The access pass asks `banned(address)` after lists, exposure and country;
// each source keeps its own bounded table and answers in O(1) for an exact address.
import type { ActiveBan } from '../../../shared/access.js';

export interface BanSource {
  /** 'crowdsec' or 'scanner'. */
  readonly source: ActiveBan['source'];
  /** The ban in force for `address` (a plain IPv4/IPv6 address), or null. */
  banned(address: string): { reason: string; until: number | null } | null;
}

export class Reputation {
  private sources: BanSource[] = [];

  add(source: BanSource): void {
    this.sources.push(source);
  }

  /** The first ban in force for `address`, with who banned it; null when none. */
  banned(address: string): { source: ActiveBan['source']; reason: string; until: number | null } | null {
    for (const source of this.sources) {
      const ban = source.banned(address);
      if (ban) return { source: source.source, ...ban };
    }
    return null;
  }
}
