// Public certificates over ACME (Let's Encrypt, its staging server, or any ACME directory such as a
// step-ca on the LAN): the accounts, the DNS providers for the DNS-01 challenge, a route's ACME
// choice, and how the API shows their state, the pre-flight checks and the failures. Settings hold
// only what is not secret: account keys, EAB HMAC keys and DNS credentials live in the data
// directory (0600, encrypted where the OS has a keystore), and the API only says whether one is set.
import { z } from 'zod';
import { HostnameSchema } from './hostname.js';

// ---------------------------------------------------------------------------------------------
// Directories

/** Directories Gatehouse names for the user; any other https directory URL works too. */
export const KNOWN_ACME_DIRECTORIES = [
  { id: 'letsencrypt', label: "Let's Encrypt", url: 'https://acme-v02.api.letsencrypt.org/directory' },
  { id: 'letsencrypt-staging', label: "Let's Encrypt staging (untrusted certificates, for trying things out)", url: 'https://acme-staging-v02.api.letsencrypt.org/directory' },
] as const;

export const AcmeDirectoryUrlSchema = z
  .string({ error: 'enter the ACME directory URL, such as https://acme-v02.api.letsencrypt.org/directory' })
  .trim()
  .max(2000, 'a directory URL has at most 2000 characters')
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'an ACME directory URL starts with https://, such as https://acme-v02.api.letsencrypt.org/directory');

/** What a directory says about itself (its `meta`), read before an account is made there. */
export interface AcmeDirectoryInfo {
  url: string;
  /** The terms of service to show and have accepted; null when the directory has none. */
  termsOfService: string | null;
  website: string | null;
  /** Names the CA goes by in CAA records ("letsencrypt.org"). */
  caaIdentities: string[];
  /** True when an account needs External Account Binding (a key id and HMAC key from the CA). */
  externalAccountRequired: boolean;
  /** Certificate profiles the directory offers (`classic`, `tlsserver`, `shortlived`); empty when none. */
  profiles: { name: string; description: string }[];
  /** True when the directory offers ACME Renewal Information (RFC 9773). */
  renewalInfo: boolean;
}

// ---------------------------------------------------------------------------------------------
// Accounts

export const AcmeAccountIdSchema = z.string({ error: 'an ACME account id is required' }).min(1, 'an ACME account id is required').max(100);

const EmailSchema = z
  .string()
  .trim()
  .max(254, 'an email address has at most 254 characters')
  .refine((value) => value === '' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value), 'enter an email address such as you@example.com, or leave it empty');

/** A CA certificate (PEM) trusted for one directory's HTTPS only. Default: null (the public CAs). */
export const DirectoryCaPemSchema = z
  .string()
  .trim()
  .max(20_000, 'a CA certificate has at most 20000 characters')
  .refine((value) => value.includes('-----BEGIN CERTIFICATE-----'), 'paste the directory\'s CA certificate as PEM (-----BEGIN CERTIFICATE----- …)')
  .nullable()
  .default(null);

/** An ACME account as settings keep it. The account key and URL live in DATA_DIR/acme/, never here. */
export const AcmeAccountSchema = z
  .object({
    id: AcmeAccountIdSchema,
    /** What the user calls it. Default: the directory's name. */
    label: z.string().trim().min(1, 'give the account a name').max(80, 'a name has at most 80 characters'),
    directoryUrl: AcmeDirectoryUrlSchema,
    /** Contact for the CA's notices; "" for none. Default: "". */
    email: EmailSchema.default(''),
    /** The terms-of-service URL the person accepted; null when the directory has none. Default: null. */
    termsAccepted: z.string().max(2000).nullable().default(null),
    /** The External Account Binding key id, when the directory needs one; its HMAC key is a secret. Default: null. */
    eabKeyId: z.string().trim().max(500).nullable().default(null),
    /** A CA (PEM) to trust for this directory's HTTPS only, for a private ACME server (a step-ca on the LAN, Pebble); null trusts the usual public CAs. Default: null. */
    directoryCaPem: DirectoryCaPemSchema,
  })
  .strict();
export type AcmeAccount = z.output<typeof AcmeAccountSchema>;

export const AcmeAccountInputSchema = z
  .object({
    label: AcmeAccountSchema.shape.label,
    directoryUrl: AcmeDirectoryUrlSchema,
    email: EmailSchema.default(''),
    /** The directory's terms-of-service URL, as getAcmeDirectory showed it, when the person accepted it. */
    termsAccepted: z.string().max(2000).nullable().default(null),
    /** External Account Binding from the CA (ZeroSSL, Google, a step-ca with EAB): key id and base64url HMAC key. */
    eab: z
      .object({
        keyId: z.string().trim().min(1, 'enter the EAB key id the CA gave you').max(500),
        hmacKey: z.string().trim().min(1, 'enter the EAB HMAC key the CA gave you').max(500).regex(/^[A-Za-z0-9_=+/-]+$/, 'the EAB HMAC key is base64url text, as the CA gave it'),
      })
      .strict()
      .nullable()
      .default(null),
    directoryCaPem: DirectoryCaPemSchema,
  })
  .strict();

export const AcmeAccountUpdateSchema = z
  .object({
    id: AcmeAccountIdSchema,
    label: AcmeAccountSchema.shape.label.optional(),
    email: EmailSchema.optional(),
    /** Accepts the directory's current terms (after the CA changed them). */
    termsAccepted: z.string().max(2000).optional(),
  })
  .strict();

export interface AcmeAccountView extends AcmeAccount {
  directoryLabel: string;
  /** `registered` once the CA knows it; `error` when registering (or a change) failed: see problem. */
  status: 'unregistered' | 'registered' | 'error';
  /** The account's URL at the CA; null before it is registered. */
  accountUrl: string | null;
  /** The account key's type (`ECDSA P-256`) and when it was made (ISO); the key itself never leaves the data directory. */
  keyType: string | null;
  keyCreatedAt: string | null;
  /** The directory's current terms, when it changed since `termsAccepted` (accept them with updateAcmeAccount). */
  termsChanged: string | null;
  eabKeySet: boolean;
  problem: AcmeProblem | null;
  /** Routes whose certificates come through this account. */
  usedBy: string[];
}

// ---------------------------------------------------------------------------------------------
// DNS providers (DNS-01)

export const DnsProviderIdSchema = z.string({ error: 'a DNS provider id is required' }).min(1, 'a DNS provider id is required').max(100);

export const DNS_PROVIDER_KINDS = ['cloudflare', 'rfc2136', 'acme-dns', 'duckdns', 'exec'] as const;
export type DnsProviderKind = (typeof DNS_PROVIDER_KINDS)[number];

export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512', 'hmac-sha224', 'hmac-sha1', 'hmac-md5'] as const;

const httpsUrl = (what: string, example: string) =>
  z
    .string()
    .trim()
    .max(2000)
    .refine((value) => {
      try {
        return ['https:', 'http:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `enter ${what} as a URL, such as ${example}`);

const providerCommon = {
  label: z.string().trim().min(1, 'give the DNS provider a name').max(80, 'a name has at most 80 characters'),
  /** How long to wait for the TXT record to be seen by the zone's name servers before asking the CA, ms. Default: 120000. */
  propagationTimeoutMs: z.number().int().min(0).max(3_600_000, 'wait at most one hour for DNS').default(120_000),
};

/** Each kind's settings that are not secret. Its secret (`credentials` on input) is stored apart. */
const providerKinds = {
  /** Cloudflare: an API token with Zone.DNS edit on the zone. `apiUrl` default https://api.cloudflare.com/client/v4. */
  cloudflare: {
    kind: z.literal('cloudflare'),
    apiUrl: httpsUrl('the Cloudflare API URL', 'https://api.cloudflare.com/client/v4').default('https://api.cloudflare.com/client/v4'),
    /** The zone's id; null looks it up from the name. Default: null. */
    zoneId: z.string().trim().max(64).nullable().default(null),
  },
  /** RFC 2136 dynamic update signed with TSIG (BIND, Knot, PowerDNS, Technitium); credentials: the base64 TSIG secret. */
  rfc2136: {
    kind: z.literal('rfc2136'),
    /** The primary name server: host or IP, optionally :port (default port 53). */
    server: z.string().trim().min(1, 'enter the name server that takes updates, such as 10.33.0.2 or ns1.example.com:53').max(260),
    /** The zone to update; null finds it from the name's SOA. Default: null. */
    zone: z.string().trim().max(253).nullable().default(null),
    keyName: z.string().trim().min(1, 'enter the TSIG key name, as in the server\'s key "name" { … } block').max(253),
    algorithm: z.enum(TSIG_ALGORITHMS, { error: `the TSIG algorithm is one of ${TSIG_ALGORITHMS.join(', ')}` }).default('hmac-sha256'),
  },
  /** acme-dns (CNAME delegation): the registration's username and subdomain; credentials: its password. */
  'acme-dns': {
    kind: z.literal('acme-dns'),
    serverUrl: httpsUrl('the acme-dns server', 'https://auth.acme-dns.io'),
    username: z.string().trim().min(1, 'enter the username acme-dns gave at registration').max(100),
    subdomain: z.string().trim().min(1, 'enter the subdomain acme-dns gave at registration').max(100),
    /** The registration's `fulldomain`: _acme-challenge.<name> must be a CNAME to it. */
    fulldomain: z.string().trim().min(1, 'enter the fulldomain acme-dns gave at registration').max(253),
  },
  /** DuckDNS: names under duckdns.org; credentials: the account token. `apiUrl` default https://www.duckdns.org. */
  duckdns: {
    kind: z.literal('duckdns'),
    apiUrl: httpsUrl('the DuckDNS API URL', 'https://www.duckdns.org').default('https://www.duckdns.org'),
  },
  /** A script of the user's (docs/dns-providers.md gives its arguments, environment and exit codes); no credentials (the script keeps its own). */
  exec: {
    kind: z.literal('exec'),
    command: z.string().trim().min(1, 'enter the full path of the script to run').max(1000).refine((value) => value.startsWith('/') || /^[A-Za-z]:\\/.test(value), 'enter the full path of the script, such as /usr/local/bin/dns-hook.sh'),
    /** The script is stopped after this long, ms. Default: 120000. */
    timeoutMs: z.number().int().min(1000).max(600_000).default(120_000),
  },
} as const;

export const DnsProviderSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.cloudflare }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.rfc2136 }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds['acme-dns'] }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.duckdns }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.exec }).strict(),
  ],
  { error: `a DNS provider kind is one of ${DNS_PROVIDER_KINDS.join(', ')}` },
);
export type DnsProvider = z.output<typeof DnsProviderSchema>;

/** The secret a provider takes on input: never stored in settings, never returned. */
const credentials = z.string().trim().min(1, 'enter the credentials (API token, TSIG secret, password)').max(4096);

/** Adding a provider: its settings and, except for exec, its credentials. */
export const DnsProviderInputSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ ...providerCommon, ...providerKinds.cloudflare, credentials }).strict(),
    z.object({ ...providerCommon, ...providerKinds.rfc2136, credentials }).strict(),
    z.object({ ...providerCommon, ...providerKinds['acme-dns'], credentials }).strict(),
    z.object({ ...providerCommon, ...providerKinds.duckdns, credentials }).strict(),
    z.object({ ...providerCommon, ...providerKinds.exec }).strict(),
  ],
  { error: `a DNS provider kind is one of ${DNS_PROVIDER_KINDS.join(', ')}` },
);

/** Changing a provider: every setting again; `credentials` left out keeps the stored ones. */
export const DnsProviderUpdateSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.cloudflare, credentials: credentials.optional() }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.rfc2136, credentials: credentials.optional() }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds['acme-dns'], credentials: credentials.optional() }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.duckdns, credentials: credentials.optional() }).strict(),
    z.object({ id: DnsProviderIdSchema, ...providerCommon, ...providerKinds.exec }).strict(),
  ],
  { error: `a DNS provider kind is one of ${DNS_PROVIDER_KINDS.join(', ')}` },
);

export type DnsProviderView = DnsProvider & {
  /** Whether credentials are stored (exec: always true). The API never returns them. */
  credentialsSet: boolean;
  usedBy: string[];
};

// ---------------------------------------------------------------------------------------------
// A route's ACME choice

export const ACME_CHALLENGES = ['http-01', 'dns-01'] as const;
export type AcmeChallenge = (typeof ACME_CHALLENGES)[number];
export const ACME_KEY_TYPES = ['ecdsa-p256', 'rsa-2048'] as const;

/** How a route with `tls.mode: "acme"` gets its certificate. */
export const RouteAcmeSchema = z
  .object({
    accountId: AcmeAccountIdSchema,
    /** http-01 (Gatehouse answers on port 80) or dns-01 (a TXT record through `dnsProviderId`; wildcards, LAN-only names). Default: http-01. */
    challenge: z.enum(ACME_CHALLENGES, { error: 'the challenge is "http-01" (port 80) or "dns-01" (a DNS provider)' }).default('http-01'),
    /** The DNS provider for dns-01; null with http-01. Default: null. */
    dnsProviderId: DnsProviderIdSchema.nullable().default(null),
    /** A profile the directory lists (`classic`, `tlsserver`, `shortlived`); null = the CA's default. Default: null. */
    profile: z.string().trim().max(64).regex(/^[A-Za-z0-9._-]*$/, 'a profile is a name the directory lists, such as tlsserver').nullable().default(null),
    /** The certificate's key. Default: ecdsa-p256 (smaller and faster than RSA; every current client takes it). */
    keyType: z.enum(ACME_KEY_TYPES, { error: 'the key type is "ecdsa-p256" or "rsa-2048"' }).default('ecdsa-p256'),
  })
  .strict()
  .superRefine((acme, ctx) => {
    if (acme.challenge === 'dns-01' && acme.dnsProviderId === null) {
      ctx.addIssue({ code: 'custom', path: ['dnsProviderId'], message: 'the DNS challenge needs a DNS provider: add one on the Certificates page' });
    }
    if (acme.challenge === 'http-01' && acme.dnsProviderId !== null) {
      ctx.addIssue({ code: 'custom', path: ['dnsProviderId'], message: 'a DNS provider is chosen only with the DNS challenge' });
    }
  });
export type RouteAcme = z.output<typeof RouteAcmeSchema>;

// ---------------------------------------------------------------------------------------------
// Failures and pre-flight

/** Every kind of failure an order can meet, each turned into one sentence with its fix. */
export const ACME_FAILURES = [
  'rate_limited',
  'dns_elsewhere',
  'name_not_found',
  'port_closed',
  'other_server',
  'caa_forbids',
  'credentials_rejected',
  'dns_provider_unreachable',
  'record_not_visible',
  'ca_unreachable',
  'terms_changed',
  'eab_rejected',
  'name_rejected',
  'ca_error',
  'internal',
] as const;
export type AcmeFailure = (typeof ACME_FAILURES)[number];

/** A failure as the API, the UI and the log show it: one sentence, the fix, and the raw detail behind "details". */
export interface AcmeProblem {
  /** One of ACME_FAILURES. */
  code: AcmeFailure;
  message: string;
  fix?: string;
  /** The CA's problem document (JSON) or the network error, as it came; null when there is none. */
  details: string | null;
  /** When trying again can work (rate limits: when the limit lifts), ISO; null when not known. */
  retryAt: string | null;
}

export type PreflightState = 'pass' | 'fail' | 'warn' | 'skipped';

export interface PreflightCheck {
  /** Stable id, such as `public-dns:jellyfin.example.com`, `caa:example.com`, `http-probe:…`, `dns-credentials`. */
  id: string;
  /** What was checked, for the checklist ("jellyfin.example.com resolves in public DNS"). */
  label: string;
  state: PreflightState;
  /** What was found, one plain sentence. */
  message: string;
  /** What to do, when the check did not pass. */
  fix: string | null;
  details: string | null;
  durationMs: number;
}

export interface PreflightReport {
  names: string[];
  challenge: AcmeChallenge;
  /** False when a check failed: an order would fail the same way. */
  ok: boolean;
  checks: PreflightCheck[];
  startedAt: string;
  durationMs: number;
}

export const PreflightInputSchema = z
  .object({
    /** The names as a route takes them (exact or `*.wildcard`, international names in xn-- form): a typing mistake is named here, not met later as a DNS failure. */
    names: z.array(HostnameSchema).min(1, 'give at least one name to check').max(100, 'check at most 100 names at once'),
    acme: RouteAcmeSchema,
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// What the Certificates page shows

/** Why and when a certificate is renewed next. */
export interface AcmeRenewal {
  /** ISO; null while no certificate is held (an order is due now). */
  at: string | null;
  /** `ari`: inside the window the CA suggested; `lifetime`: two thirds into its lifetime; `retry`: after a failure, with backoff. */
  source: 'ari' | 'lifetime' | 'retry' | 'first';
  /** One sentence: "In the window Let's Encrypt suggested (12–14 Jan)", "Two thirds into its 90-day life". */
  reason: string;
  /** The window the CA suggested (ARI), when it did. */
  window: { start: string; end: string } | null;
}

/** A route's ACME side (on RouteCertificate when its mode is "acme"). */
export interface AcmeRouteState {
  accountId: string;
  challenge: AcmeChallenge;
  dnsProviderId: string | null;
  profile: string | null;
  /** True while an order is under way. */
  ordering: boolean;
  renewal: AcmeRenewal | null;
  lastAttempt: { at: string; ok: boolean; problem: AcmeProblem | null } | null;
  /** Failed attempts since the last success (the backoff grows with it). */
  failures: number;
  /** The last pre-flight for these names, when one ran. */
  preflight: PreflightReport | null;
}

export interface AcmeOverview {
  directories: { id: string; label: string; url: string }[];
  accounts: AcmeAccountView[];
  dnsProviders: DnsProviderView[];
  /** Where secrets are kept: the OS keystore (desktop) or a 0600 key file in the data directory. */
  secretsStoredIn: 'os-keystore' | 'key-file';
}

/** The settings section (edited through the ACME endpoints, not updateSettings). */
export const AcmeSettingsSchema = z
  .object({
    accounts: z.array(AcmeAccountSchema).max(32, 'at most 32 ACME accounts'),
    dnsProviders: z.array(DnsProviderSchema).max(64, 'at most 64 DNS providers'),
  })
  .strict();
export type AcmeSettings = z.output<typeof AcmeSettingsSchema>;

export function defaultAcmeSettings(): AcmeSettings {
  return { accounts: [], dnsProviders: [] };
}
