// The doctor's last step: would this visitor be let in? The access rules' own judge (the one the
// request path and checkAccess use) is asked, and its steps become one sentence. Without a visitor
// (the desktop app's caller has no address) a typical internet address is judged, and the sentence
// says so: a route kept to this network refusing it is what its rules ask, not a fault.
import type { AccessStep, AccessVerdict } from '../../../shared/access.js';
import type { DoctorCheck } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';

/** The address judged when nobody is named: from the documentation range (RFC 5737), an "internet" visitor. */
export const TYPICAL_INTERNET_VISITOR = '203.0.113.10';

export interface DoctorAccessDeps {
  verdict: (route: Route, address: string) => Promise<AccessVerdict>;
}

function refusal(verdict: AccessVerdict): AccessStep | undefined {
  return verdict.steps.find((step) => step.outcome === 'deny');
}

function fixFor(step: AccessStep | undefined, address: string): string {
  switch (step?.step) {
    case 'exposure':
      return 'If visitors from the internet should get in, set the route\'s exposure to "Everyone" on its Access tab (and consider a sign-in).';
    case 'list':
      return `If ${address} should get in, add it (or its network) to an allowing entry of the access list on the Access page.`;
    case 'country':
      return 'If visitors from that country should get in, add it to the route\'s allowed countries on its Access tab.';
    case 'reputation':
      return `If ${address} is a friend, lift its ban on the Access page (CrowdSec or the scanner list banned it).`;
    default:
      return 'Change the route\'s access rules on its Access tab if this visitor should get in.';
  }
}

function signInWords(verdict: AccessVerdict): string {
  if (verdict.signIn === 'none') return '';
  if (verdict.signIn === 'basic') return ', then asked for a user name and password';
  return `, then asked to sign in with ${verdict.signIn}`;
}

/** The access step for `visitor`; `typical` when it stands for an unnamed internet visitor. */
export async function accessChecks(route: Route, visitor: string, typical: boolean, deps: DoctorAccessDeps): Promise<DoctorCheck[]> {
  const started = Date.now();
  const verdict = await deps.verdict(route, visitor);
  const durationMs = Date.now() - started;
  const who = typical ? `A visitor from the internet (judged as ${visitor})` : verdict.lan ? `${visitor} (on this network)` : `${visitor}${verdict.country ? ` (${verdict.country})` : ''}`;
  const base = { id: 'access:visitor', step: 'access' as const, title: typical ? 'Who gets in from the internet' : `${visitor} would be let in`, durationMs };
  if (verdict.admitted) {
    return [{ ...base, state: 'pass', says: `${who} would be let in${signInWords(verdict)}.`, fix: null }];
  }
  const step = refusal(verdict);
  const reason = step ? `${step.reason}${step.rule ? ` (${step.rule})` : ''}` : 'the rules refuse it';
  if (typical) {
    return [{ ...base, state: 'pass', says: `${who} would be refused: ${reason}. That is what the route's access rules ask; run the doctor with a visitor's address to judge someone else.`, fix: null }];
  }
  return [{ ...base, state: 'fail', says: `${who} would be refused: ${reason}.`, fix: fixFor(step, visitor) }];
}
