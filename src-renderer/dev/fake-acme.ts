// The ACME half of FakeGatehouse: accounts at directories (terms, EAB), DNS providers (credentials
// kept here and never returned), pre-flight checks from a small model of public DNS and CAA, and each
// ACME route's renewal, last attempt and last pre-flight. Inputs reach it already parsed by the
// contract's schemas (FakeGatehouse.call), so only what the real service decides is modelled here:
// refusals name the field or the routes, failures are one sentence with a fix and the raw detail.
// Never part of the shipped bundle.
import {
  KNOWN_ACME_DIRECTORIES,
  type AcmeAccount,
  type AcmeAccountView,
  type AcmeDirectoryInfo,
  type AcmeOverview,
  type AcmeProblem,
  type AcmeRouteState,
  type DnsProvider,
  type DnsProviderView,
  type PreflightCheck,
  type PreflightReport,
  type RouteAcme,
} from '../../shared/acme.js';
import { ApiError, type FieldIssue } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import { preflightChecks } from './fake-preflight.js';

export { rateLimitProblem } from './fake-preflight.js';

const DAY = 86_400_000;
const LE_TERMS = 'https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf';
const LE_PROFILES = [
  { name: 'classic', description: 'The default: 90 days, for servers and clients.' },
  { name: 'tlsserver', description: 'For web servers only, 90 days.' },
  { name: 'shortlived', description: 'Six days; renewed every few days.' },
];

export interface FakeAcmeHost {
  routes: () => Route[];
  now: () => Date;
  changed: () => void;
}

/** Omit over each member of a union, so a provider's kind still decides its fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

type StoredAccount = AcmeAccount & { keyCreatedAt: string; generation: number };

export class FakeAcme {
  accounts: StoredAccount[] = [];
  providers: DnsProvider[] = [];
  /** Directory URL → what it says about itself; an unknown https URL gets a step-ca-like answer. */
  readonly directories = new Map<string, AcmeDirectoryInfo>();
  /** Names with an address in public DNS (every other name under a public domain has none). */
  readonly publicNames = new Set<string>();
  /** Zone → the CAs its CAA records allow (a zone not here has no CAA: every CA may issue). */
  readonly caa = new Map<string, string[]>();
  /** Route id → the failure its next order meets (once). */
  readonly nextOrderProblem = new Map<string, AcmeProblem>();
  /** Route id → the certificate held (dates only). */
  readonly issued = new Map<string, { notBefore: string; notAfter: string }>();
  readonly lastAttempts = new Map<string, { at: string; ok: boolean; problem: AcmeProblem | null }>();
  readonly failures = new Map<string, number>();
  readonly preflights = new Map<string, PreflightReport>();
  /** Account id → the new terms its directory published since they were accepted. */
  readonly termsChanged = new Map<string, string>();
  readonly #credentials = new Map<string, string>();
  readonly #host: FakeAcmeHost;
  #nextId = 1;

  constructor(host: FakeAcmeHost) {
    this.#host = host;
    for (const known of KNOWN_ACME_DIRECTORIES) {
      this.directories.set(known.url, {
        url: known.url,
        termsOfService: LE_TERMS,
        website: 'https://letsencrypt.org',
        caaIdentities: ['letsencrypt.org'],
        externalAccountRequired: false,
        profiles: LE_PROFILES,
        renewalInfo: true,
      });
    }
  }

  #now(): Date {
    return this.#host.now();
  }

  directory(url: string): AcmeDirectoryInfo {
    const known = this.directories.get(url);
    if (known) return known;
    const parsed = new URL(url);
    if (parsed.hostname.endsWith('.invalid')) {
      const message = `Gatehouse could not reach ${parsed.host}: the name does not resolve.`;
      throw new ApiError('invalid_input', message, {
        issues: [{ path: 'directoryUrl', message: `${parsed.host} does not resolve; check the address` }],
        fix: 'Check the directory URL (your CA shows it in its documentation), or pick Let\'s Encrypt.',
      });
    }
    const eab = /eab|zerossl/.test(url);
    return {
      url,
      termsOfService: eab ? `${parsed.origin}/terms/v1.2.pdf` : null,
      website: parsed.origin,
      caaIdentities: [parsed.hostname],
      externalAccountRequired: eab,
      profiles: [],
      renewalInfo: false,
    };
  }

  #directoryLabel(url: string): string {
    const known = KNOWN_ACME_DIRECTORIES.find((directory) => directory.url === url);
    if (known) return known.id === 'letsencrypt' ? "Let's Encrypt" : "Let's Encrypt staging";
    return new URL(url).host;
  }

  #account(id: string): StoredAccount {
    const account = this.accounts.find((candidate) => candidate.id === id);
    if (!account) throw new ApiError('not_found', `There is no ACME account "${id}".`);
    return account;
  }

  #provider(id: string): DnsProvider {
    const provider = this.providers.find((candidate) => candidate.id === id);
    if (!provider) throw new ApiError('not_found', `There is no DNS provider "${id}".`);
    return provider;
  }

  #routesUsing(test: (acme: RouteAcme) => boolean): Route[] {
    return this.#host.routes().filter((route) => route.tls.mode === 'acme' && route.tls.acme !== null && test(route.tls.acme));
  }

  #label(route: Route): string {
    return route.title || route.names[0] || route.id;
  }

  accountView(account: StoredAccount): AcmeAccountView {
    const { keyCreatedAt, generation: _generation, ...settings } = account;
    return {
      ...settings,
      directoryLabel: this.#directoryLabel(account.directoryUrl),
      status: 'registered',
      accountUrl: `${new URL(account.directoryUrl).origin}/acme/acct/${100_000 + Number(account.id.replace(/\D/g, '') || 0)}`,
      keyType: 'ECDSA P-256',
      keyCreatedAt,
      termsChanged: this.termsChanged.get(account.id) ?? null,
      // As the real service: the HMAC key is used once, to register, and never kept.
      eabKeySet: false,
      problem: null,
      usedBy: this.#routesUsing((acme) => acme.accountId === account.id).map((route) => route.id),
    };
  }

  providerView(provider: DnsProvider): DnsProviderView {
    return {
      ...provider,
      credentialsSet: provider.kind === 'exec' || this.#credentials.has(provider.id),
      usedBy: this.#routesUsing((acme) => acme.dnsProviderId === provider.id).map((route) => route.id),
    };
  }

  overview(): AcmeOverview {
    return {
      directories: KNOWN_ACME_DIRECTORIES.map((directory) => ({ ...directory })),
      accounts: this.accounts.map((account) => this.accountView(account)),
      dnsProviders: this.providers.map((provider) => this.providerView(provider)),
      secretsStoredIn: 'key-file',
    };
  }

  addAccount(input: { label: string; directoryUrl: string; email: string; termsAccepted: string | null; eab: { keyId: string; hmacKey: string } | null; directoryCaPem?: string | null }): AcmeAccountView {
    const info = this.directory(input.directoryUrl);
    const issues: FieldIssue[] = [];
    if (info.termsOfService !== null && input.termsAccepted !== info.termsOfService) {
      issues.push({ path: 'termsAccepted', message: 'accept the terms of service to make an account there' });
    }
    if (info.externalAccountRequired && input.eab === null) {
      issues.push({ path: 'eab', message: 'this CA needs External Account Binding: enter the key id and HMAC key from its dashboard' });
    }
    if (issues.length > 0) throw new ApiError('invalid_input', `${issues[0]!.path}: ${issues[0]!.message}`, { issues });
    if (input.eab && input.eab.hmacKey.startsWith('bad')) {
      throw new ApiError('invalid_input', 'The CA refused the External Account Binding: the key id and HMAC key do not belong together.', {
        issues: [{ path: 'eab.hmacKey', message: 'the CA refused this key id and HMAC key; copy both again from its dashboard' }],
        fix: 'Create a new EAB credential in the CA\'s dashboard and paste both values.',
      });
    }
    const account: StoredAccount = {
      id: `acct${String(this.#nextId++).padStart(6, '0')}`,
      label: input.label,
      directoryUrl: input.directoryUrl,
      email: input.email,
      termsAccepted: input.termsAccepted,
      eabKeyId: input.eab?.keyId ?? null,
      directoryCaPem: input.directoryCaPem ?? null,
      keyCreatedAt: this.#now().toISOString(),
      generation: 1,
    };
    this.accounts.push(account);
    this.#host.changed();
    return this.accountView(account);
  }

  updateAccount(input: { id: string; label?: string; email?: string; termsAccepted?: string }): AcmeAccountView {
    const account = this.#account(input.id);
    if (input.termsAccepted !== undefined) {
      const current = this.termsChanged.get(account.id) ?? account.termsAccepted;
      if (input.termsAccepted !== current) {
        throw new ApiError('invalid_input', 'termsAccepted: these are not the directory\'s current terms', { issues: [{ path: 'termsAccepted', message: 'these are not the directory\'s current terms; reload the page and accept them again' }] });
      }
      account.termsAccepted = input.termsAccepted;
      this.termsChanged.delete(account.id);
    }
    if (input.label !== undefined) account.label = input.label;
    if (input.email !== undefined) account.email = input.email;
    this.#host.changed();
    return this.accountView(account);
  }

  rollover(id: string): AcmeAccountView {
    const account = this.#account(id);
    account.generation += 1;
    account.keyCreatedAt = this.#now().toISOString();
    this.#host.changed();
    return this.accountView(account);
  }

  removeAccount(id: string): { removed: AcmeAccountView } {
    const view = this.accountView(this.#account(id));
    const users = this.#routesUsing((acme) => acme.accountId === id);
    if (users.length > 0) {
      const names = users.map((route) => this.#label(route)).join(', ');
      throw new ApiError('conflict', `"${view.label}" is still used by ${names}.`, { fix: `Choose another account (or another kind of HTTPS) for ${names} first.` });
    }
    this.accounts = this.accounts.filter((account) => account.id !== id);
    this.#host.changed();
    return { removed: view };
  }

  addProvider(input: WithoutId<DnsProvider> & { credentials?: string }): DnsProviderView {
    const { credentials, ...settings } = input;
    const provider = { ...settings, id: `dns${String(this.#nextId++).padStart(6, '0')}` } as DnsProvider;
    this.providers.push(provider);
    if (credentials !== undefined) this.#credentials.set(provider.id, credentials);
    this.#host.changed();
    return this.providerView(provider);
  }

  updateProvider(input: DnsProvider & { credentials?: string }): DnsProviderView {
    const existing = this.#provider(input.id);
    const { credentials, ...settings } = input;
    if (existing.kind !== settings.kind && settings.kind !== 'exec' && credentials === undefined) {
      throw new ApiError('invalid_input', 'credentials: a provider of another kind needs its own credentials', { issues: [{ path: 'credentials', message: 'enter the credentials for the new kind' }] });
    }
    this.providers = this.providers.map((provider) => (provider.id === input.id ? (settings as DnsProvider) : provider));
    if (credentials !== undefined) this.#credentials.set(input.id, credentials);
    this.#host.changed();
    return this.providerView(settings as DnsProvider);
  }

  removeProvider(id: string): { removed: DnsProviderView } {
    const view = this.providerView(this.#provider(id));
    const users = this.#routesUsing((acme) => acme.dnsProviderId === id);
    if (users.length > 0) {
      const names = users.map((route) => this.#label(route)).join(', ');
      throw new ApiError('conflict', `"${view.label}" is still used by ${names}.`, { fix: `Choose another DNS provider (or the HTTP challenge) for ${names} first.` });
    }
    this.providers = this.providers.filter((provider) => provider.id !== id);
    this.#credentials.delete(id);
    this.#host.changed();
    return { removed: view };
  }

  /** The credentials check: a harmless TXT record created, seen and removed (here: the stored secret judged). */
  testProvider(id: string, name: string): PreflightCheck {
    const provider = this.#provider(id);
    const secret = this.#credentials.get(id) ?? '';
    const started = Date.now();
    const record = `_gatehouse-test.${name.replace(/^\*\./, '')}`;
    const base = { id: 'dns-credentials', label: `${provider.label} can create a TXT record for ${name}`, durationMs: 0 };
    if (provider.kind !== 'exec' && secret.startsWith('bad')) {
      return {
        ...base,
        state: 'fail',
        message: `${provider.label} refused the credentials while creating ${record}.`,
        fix: provider.kind === 'cloudflare' ? 'Create an API token with Zone → DNS → Edit for this zone, and paste it under Edit.' : 'Check the credentials under Edit, and that they may change this zone.',
        details: JSON.stringify({ success: false, errors: [{ code: 10000, message: 'Authentication error' }] }),
        durationMs: Date.now() - started + 412,
      };
    }
    return { ...base, state: 'pass', message: `Created ${record}, saw it at the zone's name servers, and removed it.`, fix: null, details: null, durationMs: Date.now() - started + 2380 };
  }

  /** The checks an order for `names` needs, from the fake's model of public DNS, CAA and the provider. */
  preflight(names: string[], acme: RouteAcme): PreflightReport {
    const started = this.#now();
    const account = this.accounts.find((candidate) => candidate.id === acme.accountId);
    const provider = acme.challenge === 'dns-01' ? this.providers.find((candidate) => candidate.id === acme.dnsProviderId) : undefined;
    const checks = preflightChecks(
      {
        publicNames: this.publicNames,
        caa: this.caa,
        identities: account ? this.directory(account.directoryUrl).caaIdentities : ['letsencrypt.org'],
        caName: account ? this.#directoryLabel(account.directoryUrl) : 'the CA',
        providerTest: acme.challenge === 'dns-01' ? (provider ? () => this.testProvider(provider.id, names[0]!) : null) : undefined,
      },
      names,
      acme.challenge,
    );
    const report: PreflightReport = {
      names,
      challenge: acme.challenge,
      ok: checks.every((one) => one.state !== 'fail'),
      checks,
      startedAt: started.toISOString(),
      durationMs: checks.reduce((sum, one) => sum + one.durationMs, 0),
    };
    for (const route of this.#host.routes()) {
      if (route.tls.mode === 'acme' && route.names.join() === names.join()) this.preflights.set(route.id, report);
    }
    return report;
  }

  /** What a route with mode "acme" has: its certificate's dates, the renewal plan, the last attempt. */
  routeState(route: Route): { state: AcmeRouteState; issuer: string | null; notBefore: string | null; notAfter: string | null } | null {
    const acme = route.tls.acme;
    if (route.tls.mode !== 'acme' || acme === null) return null;
    const account = this.accounts.find((candidate) => candidate.id === acme.accountId);
    const staging = account?.directoryUrl.includes('staging') ?? false;
    const issued = this.issued.get(route.id) ?? null;
    const last = this.lastAttempts.get(route.id) ?? null;
    const failures = this.failures.get(route.id) ?? 0;
    const state: AcmeRouteState = {
      accountId: acme.accountId,
      challenge: acme.challenge,
      dnsProviderId: acme.dnsProviderId,
      profile: acme.profile,
      ordering: false,
      renewal: this.#renewal(issued, last),
      lastAttempt: last,
      failures,
      preflight: this.preflights.get(route.id) ?? null,
    };
    return { state, issuer: issued ? (staging ? '(STAGING) Ersatz Edamame E1' : "CN=E7, O=Let's Encrypt, C=US") : null, notBefore: issued?.notBefore ?? null, notAfter: issued?.notAfter ?? null };
  }

  #renewal(issued: { notBefore: string; notAfter: string } | null, last: { ok: boolean; problem: AcmeProblem | null } | null): AcmeRouteState['renewal'] {
    if (last && !last.ok && last.problem?.retryAt) {
      return { at: last.problem.retryAt, source: 'retry', reason: 'After the last failure, when the CA said trying again can work.', window: null };
    }
    if (!issued) return { at: null, source: 'first', reason: 'No certificate yet: the first order is due now.', window: null };
    const start = new Date(new Date(issued.notBefore).getTime() + 60 * DAY);
    const end = new Date(start.getTime() + 2 * DAY);
    const at = new Date(start.getTime() + 16 * 3_600_000 + 12 * 60_000);
    return { at: at.toISOString(), source: 'ari', reason: "In the window Let's Encrypt suggested", window: { start: start.toISOString(), end: end.toISOString() } };
  }

  /** Issues (or fails to issue) a route's certificate now, as "Renew now" does. */
  order(route: Route): void {
    const now = this.#now();
    const problem = this.nextOrderProblem.get(route.id) ?? null;
    this.nextOrderProblem.delete(route.id);
    if (problem) {
      this.lastAttempts.set(route.id, { at: now.toISOString(), ok: false, problem });
      this.failures.set(route.id, (this.failures.get(route.id) ?? 0) + 1);
      return;
    }
    this.issued.set(route.id, { notBefore: now.toISOString(), notAfter: new Date(now.getTime() + 90 * DAY).toISOString() });
    this.lastAttempts.set(route.id, { at: now.toISOString(), ok: true, problem: null });
    this.failures.delete(route.id);
  }

  /** The issues the real gateway gives a route's ACME choice; empty when it can be saved. */
  routeIssues(route: Pick<Route, 'names' | 'tls'>): FieldIssue[] {
    const acme = route.tls.acme;
    if (route.tls.mode !== 'acme' || acme === null) return [];
    const issues: FieldIssue[] = [];
    if (!this.accounts.some((account) => account.id === acme.accountId)) issues.push({ path: 'tls.acme.accountId', message: 'this ACME account does not exist; choose another one or add one on the Certificates page' });
    if (acme.dnsProviderId !== null && !this.providers.some((provider) => provider.id === acme.dnsProviderId)) {
      issues.push({ path: 'tls.acme.dnsProviderId', message: 'this DNS provider does not exist; choose another one or add one on the Certificates page' });
    }
    if (acme.challenge === 'http-01') {
      route.names.forEach((name, index) => {
        if (name.startsWith('*.')) issues.push({ path: `names.${index}`, message: `"${name}" is a wildcard, which needs the DNS challenge` });
      });
    }
    return issues;
  }
}
