// Who may reach each service: the schemas of a route's access settings (exposure, access lists,
// country rules, sign-in, limits, scanner blocking), of the shared pieces routes point at (named
// access lists, sign-in providers, CrowdSec), and the shapes the API reports (the Access page's
// overview, the "would this address get in, and why" verdict).
//
// How a request is judged (docs/access.md says the same for users):
//   1. The route's access lists, in the order attached, entry by entry: the first entry whose
//      address or range matches decides (allow or deny), and nothing below is asked.
//   2. No entry matched: the route's exposure decides. "This network only" refuses any address
//      outside this machine's networks (loopback, private and link-local ranges, IPv6 ULA, and the
//      subnets this machine's interfaces are on); "anyone" lets it on to the next step.
//   3. Country rules (addresses outside this network only: a LAN address has no country).
//   4. Reputation: a CrowdSec ban or a scanner ban refuses the address. This machine's networks are
//      never refused here unless the user asks (crowdsec.applyToLan).
//   5. Limits (requests per minute, login attempts, body size), then sign-in, then the service.
// Imports nothing but zod: this file is bundled into the renderer.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Addresses

/** An IPv4/IPv6 address or CIDR range, as typed; stored as given (trimmed). */
export const AccessRangeSchema = z
  .string()
  .trim()
  .pipe(
    z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
      error: 'enter an IP address or a CIDR range, such as 203.0.113.5, 10.33.0.0/24 or 2001:db8::/32',
    }),
  );

// ---------------------------------------------------------------------------------------------
// Access lists (named, shared by routes)

export const ACCESS_ACTIONS = ['allow', 'deny'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

export const AccessEntrySchema = z
  .object({
    action: z.enum(ACCESS_ACTIONS, { error: 'an entry either allows or denies' }),
    /** An address or CIDR range. */
    range: AccessRangeSchema,
    /** What the entry is for ("office", "Mum's house"); shown in the log when it decides. Default: "". */
    note: z.string().trim().max(80, 'a note has at most 80 characters').default(''),
  })
  .strict();
export type AccessEntry = z.output<typeof AccessEntrySchema>;

const accessListFields = {
  /** What the user calls the list ("Family", "Office"); unique, case-insensitively. */
  name: z.string().trim().min(1, 'give the list a name, such as Family').max(60, 'a list name has at most 60 characters'),
  /** Read top to bottom; the first entry that matches decides. Default: none. */
  entries: z.array(AccessEntrySchema).max(10_000, 'a list has at most 10,000 entries').default([]),
};

/** What a person (or the API) supplies to create or replace an access list. */
export const AccessListInputSchema = z.object(accessListFields).strict();
export type AccessListInput = z.input<typeof AccessListInputSchema>;

export const AccessListIdSchema = z.string({ error: 'an access list id is required' }).min(1, 'an access list id is required').max(100);
export const AccessListSchema = z.object({ id: AccessListIdSchema, ...accessListFields }).strict();
export type AccessList = z.output<typeof AccessListSchema>;

// ---------------------------------------------------------------------------------------------
// Sign-in providers (forward auth)

/** Forward-auth servers Gatehouse has presets for; `custom` takes any path. */
export const SIGN_IN_PROVIDER_KINDS = ['authelia', 'authentik', 'tinyauth', 'oauth2-proxy', 'custom'] as const;
export type SignInProviderKind = (typeof SIGN_IN_PROVIDER_KINDS)[number];

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const signInProviderFields = {
  name: z.string().trim().min(1, 'give the provider a name, such as Authelia').max(60, 'a provider name has at most 60 characters'),
  kind: z.enum(SIGN_IN_PROVIDER_KINDS, { error: 'choose authelia, authentik, tinyauth, oauth2-proxy or custom' }),
  /**
   * The forward-auth endpoint's full URL, preset path included, such as
   * http://10.33.0.5:9091/api/authz/forward-auth (Authelia). Gatehouse asks it about every request.
   */
  url: z
    .string()
    .trim()
    .url('enter the forward-auth address as a URL, such as http://10.33.0.5:9091/api/authz/forward-auth')
    .refine((url) => /^https?:\/\//i.test(url), 'the forward-auth address starts with http:// or https://'),
  /**
   * Response headers of a "yes" that are copied to the request sent to the service (Remote-User,
   * Remote-Email…). A client's own copies of these headers are always removed. Default: the preset's.
   */
  copyHeaders: z
    .array(z.string().trim().regex(HEADER_NAME, 'a header name has letters, digits and - only, such as Remote-User'))
    .max(32, 'copy at most 32 headers')
    .default([]),
  /** Accept a self-signed certificate on an https:// provider. Default: false. */
  insecureTls: z.boolean().default(false),
};

export const SignInProviderInputSchema = z.object(signInProviderFields).strict();
export type SignInProviderInput = z.input<typeof SignInProviderInputSchema>;
export const SignInProviderIdSchema = z.string({ error: 'a provider id is required' }).min(1, 'a provider id is required').max(100);
export const SignInProviderSchema = z.object({ id: SignInProviderIdSchema, ...signInProviderFields }).strict();
export type SignInProvider = z.output<typeof SignInProviderSchema>;

// ---------------------------------------------------------------------------------------------
// A route's access

/** Who may reach a route when no access-list entry decided. */
export const EXPOSURES = ['lan', 'anyone'] as const;
export type Exposure = (typeof EXPOSURES)[number];

/** ISO 3166-1 alpha-2, upper case ("DE"). */
export const CountryCodeSchema = z
  .string()
  .trim()
  .transform((code) => code.toUpperCase())
  .pipe(z.string().regex(/^[A-Z]{2}$/, 'a country is its two-letter code, such as DE or US'));

export const CountryRulesSchema = z
  .object({
    /** off: no country rule; allow: only these countries get in; deny: these countries are refused. Default: off. */
    mode: z.enum(['off', 'allow', 'deny'], { error: 'country rules are off, allow or deny' }).default('off'),
    countries: z.array(CountryCodeSchema).max(250).default([]),
  })
  .strict()
  .superRefine((rules, ctx) => {
    if (rules.mode !== 'off' && rules.countries.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['countries'], message: `list at least one country to ${rules.mode}, or turn country rules off` });
    }
  });
export type CountryRules = z.output<typeof CountryRulesSchema>;

export const UserNameSchema = z
  .string()
  .trim()
  .min(1, 'enter a user name')
  .max(64, 'a user name has at most 64 characters')
  .regex(/^[^:\s]+$/, 'a user name has no spaces or colons');

export const SignInSchema = z.discriminatedUnion(
  'method',
  [
    z.object({ method: z.literal('none') }).strict(),
    z
      .object({
        method: z.literal('basic'),
        /** Who may sign in: "all" (every Gatehouse user) or these user names. */
        users: z.union([z.literal('all'), z.array(UserNameSchema).min(1, 'choose at least one user, or "all"').max(100)]).default('all'),
      })
      .strict(),
    z.object({ method: z.literal('forward'), providerId: SignInProviderIdSchema }).strict(),
  ],
  { error: 'sign-in is none, basic (a user name and password) or forward (Authelia, Authentik…)' },
);
export type SignIn = z.output<typeof SignInSchema>;

export const RouteLimitsSchema = z
  .object({
    /** Requests per minute from one client address (short bursts up to this many at once); 0 = no limit. Default: 1200. */
    requestsPerMinute: z.number().int('a whole number of requests').min(0, 'cannot be negative').max(1_000_000).default(1200),
    /** Attempts per minute on the app's sign-in paths (from its preset) from one client; 0 = no limit. Default: 10. */
    loginPerMinute: z.number().int('a whole number of attempts').min(0, 'cannot be negative').max(10_000).default(10),
    /** Largest request body in bytes (answered 413 beyond); 0 = no limit. Default: 0. */
    maxBodyBytes: z.number().int('a whole number of bytes').min(0, 'cannot be negative').max(2 ** 45).default(0),
    /** Apply the request and sign-in limits to this machine's own networks too (the body limit always applies). Default: false (the LAN is never locked out). */
    limitLan: z.boolean().default(false),
  })
  .strict();
export type RouteLimits = z.output<typeof RouteLimitsSchema>;

export const RouteAccessSchema = z
  .object({
    /** Who may come in when no list entry decided: "lan" (this network only) or "anyone". Default: lan. */
    exposure: z.enum(EXPOSURES, { error: 'exposure is "lan" (this network only) or "anyone"' }).default('lan'),
    /** Access lists (ids), asked in this order. Default: none. */
    lists: z.array(AccessListIdSchema).max(8, 'attach at most 8 lists').default([]),
    countries: CountryRulesSchema.default({ mode: 'off', countries: [] }),
    signIn: SignInSchema.default({ method: 'none' }),
    limits: RouteLimitsSchema.default(() => RouteLimitsSchema.parse({})),
    /** Refuse well-known scanner probes (/.env, /.git/…) and ban addresses that keep sending them. Default: true. */
    blockScanners: z.boolean().default(true),
  })
  .strict();
export type RouteAccess = z.output<typeof RouteAccessSchema>;

/** A route's access as new routes get it: this network only, every protection on. */
export function defaultRouteAccess(): RouteAccess {
  return RouteAccessSchema.parse({});
}

// ---------------------------------------------------------------------------------------------
// Settings: the shared pieces

export const CrowdsecSettingsSchema = z
  .object({
    /** Ask a CrowdSec Local API for bans. Default: false. */
    enabled: z.boolean(),
    /** The Local API's address. Default: http://127.0.0.1:8080. */
    url: z.string().trim().url('enter the Local API address, such as http://127.0.0.1:8080'),
    /** How often decisions are pulled, in seconds. Default: 10. */
    pullSeconds: z.number().int().min(2, 'pull at most every 2 seconds').max(3600, 'pull at least every hour'),
    /** Refuse banned addresses on this machine's own networks too. Default: false (never ban the owner). */
    applyToLan: z.boolean(),
  })
  .strict();
export type CrowdsecSettings = z.output<typeof CrowdsecSettingsSchema>;

export const ScannerBanSettingsSchema = z
  .object({
    /** Probes from one address within `windowSeconds` that start a ban; 0 never bans. Default: 3. */
    probes: z.number().int().min(0).max(1000),
    /** Default: 600 (10 minutes). */
    windowSeconds: z.number().int().min(1).max(86_400),
    /** How long a ban lasts. Default: 3600 (1 hour). */
    banSeconds: z.number().int().min(1).max(30 * 86_400),
  })
  .strict();

export const AccessSettingsSchema = z
  .object({
    lists: z.array(AccessListSchema).max(200, 'at most 200 access lists'),
    providers: z.array(SignInProviderSchema).max(50, 'at most 50 sign-in providers'),
    crowdsec: CrowdsecSettingsSchema,
    scannerBan: ScannerBanSettingsSchema,
    /** Open connections one client address may hold (this machine's networks and trusted proxies excepted); 0 = no limit. Default: 256. */
    maxConnectionsPerClient: z.number().int().min(0).max(100_000),
  })
  .strict()
  .superRefine((access, ctx) => {
    const names = new Set<string>();
    for (const [i, list] of access.lists.entries()) {
      const key = list.name.toLowerCase();
      if (names.has(key)) ctx.addIssue({ code: 'custom', path: ['lists', i, 'name'], message: `two access lists are called "${list.name}"` });
      names.add(key);
    }
  });
export type AccessSettings = z.output<typeof AccessSettingsSchema>;

export function defaultAccessSettings(): AccessSettings {
  return {
    lists: [],
    providers: [],
    crowdsec: { enabled: false, url: 'http://127.0.0.1:8080', pullSeconds: 10, applyToLan: false },
    scannerBan: { probes: 3, windowSeconds: 600, banSeconds: 3600 },
    maxConnectionsPerClient: 256,
  };
}

/** Named lists of proxies in front of Gatehouse that can be trusted in one click. */
export const TRUSTED_FRONTS = ['cloudflare'] as const;
export type TrustedFront = (typeof TRUSTED_FRONTS)[number];

// ---------------------------------------------------------------------------------------------
// What the API reports

export interface ForwardAuthPreset {
  kind: Exclude<SignInProviderKind, 'custom'>;
  label: string;
  /** The endpoint's path, appended to the server's address. */
  path: string;
  /** The server's usual port, for the example address. */
  examplePort: number;
  copyHeaders: string[];
  /** Where in the provider's documentation this comes from. */
  docs: string;
  /** The response header that names who signed in (for the log and request.user). */
  userHeader: string;
  /**
   * What to enter and what the provider needs, in plain words, for the form's hint ("Enter
   * http://<Authelia's address>:9091/api/authz/forward-auth; …").
   */
  hint: string;
}

export type CrowdsecState = 'off' | 'connecting' | 'ok' | 'down' | 'bad_key' | 'no_key';

export interface CrowdsecStatus {
  settings: CrowdsecSettings;
  apiKeySet: boolean;
  state: CrowdsecState;
  /** Why it is down, in plain words; null when fine. */
  problem: string | null;
  /** ISO time of the last successful pull; null before the first. */
  lastPullAt: string | null;
  /** Addresses and ranges banned now. */
  bans: number;
}

export interface AccessUser {
  name: string;
  /** ISO time the password was last set. */
  passwordSetAt: string;
}

export interface CountryDatabaseInfo {
  /** Package and file it was read from. */
  source: string;
  license: string;
  /** ISO date the database was built. */
  builtAt: string;
  /** How it is updated, in plain words. */
  updates: string;
}

export interface ActiveBan {
  address: string;
  /** 'scanner' (tripped the probe list) or 'crowdsec'. */
  source: 'scanner' | 'crowdsec';
  reason: string;
  /** ISO time the ban ends; null when unknown. */
  until: string | null;
}

export interface AccessOverview {
  /** The caller's address as the proxy would see it; null in the desktop window (this machine). */
  yourAddress: string | null;
  /** Whether `yourAddress` counts as this network. */
  yourAddressIsLan: boolean | null;
  lists: AccessList[];
  providers: SignInProvider[];
  presets: ForwardAuthPreset[];
  users: AccessUser[];
  crowdsec: CrowdsecStatus;
  countryDatabase: CountryDatabaseInfo | null;
  /** Scanner bans in force (CrowdSec's are counted in crowdsec.bans). At most 100, newest first. */
  scannerBans: ActiveBan[];
}

/** One step of judging an address, in the order the request path takes them. */
export interface AccessStep {
  /** 'list', 'exposure', 'country', 'reputation', 'limits', 'sign-in'. */
  step: 'list' | 'exposure' | 'country' | 'reputation' | 'limits' | 'sign-in';
  outcome: 'allow' | 'deny' | 'continue' | 'skip';
  /** The rule, as the log names it ("list Family: allow 10.33.0.0/24"). */
  rule: string | null;
  /** In plain words. */
  reason: string;
}

export interface AccessVerdict {
  address: string;
  routeId: string;
  /** True when the address gets past access (sign-in may still be asked). */
  admitted: boolean;
  /** Whether it counts as this network. */
  lan: boolean;
  country: string | null;
  steps: AccessStep[];
  /** Sign-in still asked of an admitted visitor: "none", "basic" or the provider's name. */
  signIn: string;
}

/** Who the API caller is, as the transport saw them (the Access page's "your address"). */
export interface CallContext {
  /** The caller's socket address and headers (headless HTTP); null in the desktop window. */
  client: { address: string; headers: Record<string, string | string[] | undefined> } | null;
}
