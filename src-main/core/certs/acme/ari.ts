// ACME Renewal Information (RFC 9773): the certificate's ARI id, and the window its CA suggests.
// Issue 15 foundation: the seam; fetching and parsing come with the renewal work.
import type { RenewalInfo } from './renewal-plan.js';

/** base64url(AKI keyIdentifier) "." base64url(serial DER bytes), RFC 9773 §4.1. */
export function ariCertificateId(_certificatePem: string): string {
  throw new Error('ARI is not built yet');
}

export interface RenewalInfoOptions {
  /** Extra CA (PEM) to trust for the directory's HTTPS (Pebble's own, a step-ca's root). */
  ca?: string | null;
  timeoutMs?: number;
  now: Date;
}

/** GET <renewalInfo>/<certificate id>; rejects when the CA has none or answers badly. */
export async function fetchRenewalInfo(_renewalInfoUrl: string, _certificatePem: string, _options: RenewalInfoOptions): Promise<RenewalInfo> {
  throw new Error('ARI is not built yet');
}
