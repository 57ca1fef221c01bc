// What every DNS-01 provider does: put a TXT record in place and take it away again. Each kind
// (Cloudflare, RFC 2136, acme-dns, DuckDNS, exec hook) is one file in this folder implementing it;
// createDnsProvider picks by kind. Every failure is a DnsProviderError (errors.ts): one sentence,
// its fix, and the provider's raw answer behind `details`.
import type { DnsProvider } from '../../../../../shared/acme.js';
import { acmeDnsProvider } from './acme-dns.js';
import { cloudflareProvider } from './cloudflare.js';
import { duckDnsProvider } from './duckdns.js';
import { execProvider } from './exec-hook.js';
import { rfc2136Provider } from './rfc2136.js';

/** One TXT record for a challenge (or a pre-flight test record). */
export interface TxtRecord {
  /** The name being validated, without a wildcard: "www.example.com" (for "*.example.com": "example.com"). */
  name: string;
  /** The record's full name, without a trailing dot: "_acme-challenge.www.example.com". */
  fqdn: string;
  /** The TXT value (a key authorization digest, or a pre-flight test value). */
  value: string;
}

export interface DnsChallengeProvider {
  /** Creates the record; rejects with a message that says what the provider answered. */
  present(record: TxtRecord): Promise<void>;
  /** Removes the record (only this value: other records of the same name stay). */
  cleanup(record: TxtRecord): Promise<void>;
  /**
   * The name whose TXT the CA will read for `record` (acme-dns: the CNAME target `fulldomain`;
   * everyone else: record.fqdn), for the propagation wait and the pre-flight.
   */
  lookupName(record: TxtRecord): string;
  /**
   * True when the provider holds one TXT value per name (DuckDNS): an order then validates its
   * names one after the other instead of all at once. Default: false.
   */
  oneRecordAtATime?: boolean;
}

export interface DnsProviderContext {
  /** The provider's stored credentials (null for exec, or when none are stored). */
  credentials: string | null;
  /** DNS servers to ask ("ip" or "ip:port"); default: the system's. Tests point these at their bind9. */
  resolvers?: readonly string[];
}

export type CreateDnsProvider = (settings: DnsProvider, context: DnsProviderContext) => DnsChallengeProvider;

export const createDnsProvider: CreateDnsProvider = (settings, context) => {
  switch (settings.kind) {
    case 'cloudflare':
      return cloudflareProvider(settings, context);
    case 'rfc2136':
      return rfc2136Provider(settings, context);
    case 'acme-dns':
      return acmeDnsProvider(settings, context);
    case 'duckdns':
      return duckDnsProvider(settings, context);
    case 'exec':
      return execProvider(settings);
  }
};

/** The TXT record for validating `name` ("*.example.com" is validated at example.com). */
export function challengeRecord(name: string, value: string): TxtRecord {
  const bare = name.replace(/^\*\./, '').replace(/\.$/, '').toLowerCase();
  return { name: bare, fqdn: `_acme-challenge.${bare}`, value };
}
