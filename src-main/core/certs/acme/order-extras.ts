// What Gatehouse adds to a newOrder beyond acme-client's identifiers: the profile (draft-ietf-acme-
// profiles) when the directory lists it, and `replaces` (RFC 9773 §5) naming the certificate being
// renewed, so the CA links the two and may exempt the renewal from rate limits.
//
// acme-client's `client.createOrder(data)` signs `data` as it is (api.createOrder → signedRequest →
// JSON.stringify(payload)), so this object is the newOrder body, extra fields included.
import { isIP } from 'node:net';

export interface OrderExtras {
  /** Profile name the directory lists; null for the CA's default. */
  profile: string | null;
  /** The ARI certificate id of the certificate this order renews; null for a first order. */
  replaces: string | null;
}

/** RFC 9773 §4.1: two base64url parts (AKI keyIdentifier, serial) joined by a dot. */
const ARI_ID = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The newOrder body. A type alias (not an interface) so it is both a Record<string, unknown> and,
 * passed as a variable, an acme-client OrderCreateRequest: `client.createOrder(payload)`.
 */
export type NewOrderPayload = {
  identifiers: { type: 'dns' | 'ip'; value: string }[];
  profile?: string;
  replaces?: string;
};

export function newOrderPayload(names: readonly string[], extras: OrderExtras): NewOrderPayload {
  if (names.length === 0) throw new Error('An order needs at least one name.');
  // IP addresses are their own identifier type (RFC 8738); everything else is a DNS name.
  const payload: NewOrderPayload = { identifiers: names.map((value) => ({ type: isIP(value) ? 'ip' : 'dns', value })) };
  if (extras.profile !== null) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(extras.profile)) throw new Error(`"${extras.profile}" is not a profile name a directory would list.`);
    payload.profile = extras.profile;
  }
  if (extras.replaces !== null) {
    if (!ARI_ID.test(extras.replaces)) throw new Error(`"${extras.replaces}" is not an ARI certificate id.`);
    payload.replaces = extras.replaces;
  }
  return payload;
}
