// Every way an order can fail, turned into one sentence with its fix (shared/acme.ts AcmeProblem),
// keeping the CA's problem document or the network error behind "details".
// Issue 15 foundation: the seam; the classification of each failure class comes next.
import type { AcmeProblem } from '../../../../shared/acme.js';

export interface FailureContext {
  /** The names being ordered. */
  names: readonly string[];
  challenge: 'http-01' | 'dns-01';
  directoryUrl: string;
}

export function acmeProblemOf(error: unknown, _context: FailureContext): AcmeProblem {
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: `The order failed: ${message}`, details: message, retryAt: null };
}
