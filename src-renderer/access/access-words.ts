// How the Access page and the route form say the access contract's values in plain words, in one
// place: the verdict's steps, CrowdSec's state, the exposure.
import type { AccessStep, AccessVerdict, CrowdsecState, Exposure } from '../../shared/access.js';
import { countryLabel } from './countries.js';

/** The documented order, as the Access page states it above every list. */
export const LIST_RULE = "Read top to bottom; the first entry that matches decides. If none matches, the route's exposure decides.";

export const exposureWords: Record<Exposure, string> = {
  lan: 'This network only',
  anyone: 'Anyone on the internet',
};

export const stepWords: Record<AccessStep['step'], string> = {
  list: 'Access list',
  exposure: 'Who can reach it',
  country: 'Country',
  reputation: 'Bans',
  limits: 'Limits',
  'sign-in': 'Sign-in',
};

export const outcomeWords: Record<AccessStep['outcome'], string> = {
  allow: 'Let in',
  deny: 'Refused',
  continue: 'Passed',
  skip: 'Not asked',
};

/** The verdict's headline: "203.0.113.5 gets in (then signs in with Authelia)." */
export function verdictHeadline(verdict: AccessVerdict): string {
  if (!verdict.admitted) return `${verdict.address} is refused.`;
  const signIn = verdict.signIn === 'none' ? '' : verdict.signIn === 'basic' ? ', then asked for a user name and password' : `, then asked to sign in with ${verdict.signIn}`;
  return `${verdict.address} gets in${signIn}.`;
}

/** Where the address is, in words: "on this network", "outside this network, in Germany (DE)". */
export function verdictWhere(verdict: AccessVerdict): string {
  if (verdict.lan) return 'It is on this network.';
  return verdict.country ? `It is outside this network, in ${countryLabel(verdict.country)}.` : 'It is outside this network.';
}

export const crowdsecStateWords: Record<CrowdsecState, string> = {
  off: 'Off',
  connecting: 'Connecting…',
  ok: 'Working',
  down: 'Cannot reach CrowdSec',
  bad_key: 'CrowdSec refused the bouncer key',
  no_key: 'No bouncer key',
};

/** "4.2 MB" style for the body limit: people think in MB, the API in bytes. */
export const BYTES_PER_MB = 1_000_000;
