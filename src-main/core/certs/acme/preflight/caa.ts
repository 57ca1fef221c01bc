// CAA (RFC 8659): may this CA issue for this name? The first CAA record set found climbing from the
// name towards the root decides; no CAA anywhere means any CA may. Wildcards look at `issuewild`
// when the set has any, else at `issue`. Parameters after ";" (validationmethods, accounturi) are
// not weighed here: they narrow an allowed CA further, which the CA itself enforces.
import type { CaaRecord } from './public-dns.js';

export type CaaVerdict =
  | { allowed: true; reason: 'none' | 'listed' | 'no-issue-property' }
  | { allowed: false; reason: 'not-listed' | 'critical-unknown'; allows: string[]; tag: 'issue' | 'issuewild'; unknownTag?: string };

const KNOWN_TAGS = new Set(['issue', 'issuewild', 'iodef', 'issuemail', 'issuevmc', 'contactemail', 'contactphone']);

/** The CA identity of an issue/issuewild value: the domain before ";" ("" = no CA may issue). */
export function caaDomain(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase().replace(/\.$/, '');
}

export function caaAllows(records: readonly CaaRecord[], caaIdentities: readonly string[], wildcard: boolean): CaaVerdict {
  if (records.length === 0) return { allowed: true, reason: 'none' };
  // An unknown property with the critical flag (128) set forbids issuance (RFC 8659 §4.1).
  const unknownCritical = records.find((record) => (record.critical & 128) !== 0 && !KNOWN_TAGS.has(record.tag));
  if (unknownCritical) return { allowed: false, reason: 'critical-unknown', allows: [], tag: 'issue', unknownTag: unknownCritical.tag };
  const wild = records.filter((record) => record.tag === 'issuewild');
  const tag: 'issue' | 'issuewild' = wildcard && wild.length > 0 ? 'issuewild' : 'issue';
  const relevant = records.filter((record) => record.tag === tag);
  if (relevant.length === 0) return { allowed: true, reason: 'no-issue-property' };
  const ids = new Set(caaIdentities.map((id) => id.toLowerCase()));
  const allows = [...new Set(relevant.map((record) => caaDomain(record.value)).filter((domain) => domain !== ''))];
  if (allows.some((domain) => ids.has(domain))) return { allowed: true, reason: 'listed' };
  return { allowed: false, reason: 'not-listed', allows, tag };
}
