// What Gatehouse adds to a newOrder beyond acme-client's identifiers: the profile (draft-ietf-acme-
// profiles) when the directory lists it, and `replaces` (RFC 9773 §5) naming the certificate being
// renewed, so the CA links the two and may exempt the renewal from rate limits.
// Issue 15 foundation: identifiers only; profile and replaces come next.

export interface OrderExtras {
  /** Profile name the directory lists; null for the CA's default. */
  profile: string | null;
  /** The ARI certificate id of the certificate this order renews; null for a first order. */
  replaces: string | null;
}

export function newOrderPayload(names: readonly string[], _extras: OrderExtras): Record<string, unknown> {
  return { identifiers: names.map((value) => ({ type: 'dns', value })) };
}
