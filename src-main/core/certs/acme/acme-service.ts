// The ACME service: a certificate per route with `tls.mode: "acme"`, ordered through the route's
// account, held and served (CertificateService delegates to it), renewed on one timer chain when
// planRenewal says (ARI when the CA offers it), and kept when a renewal fails.
//
// Orders run in the background: saving a route never waits for a CA. One order per route at a
// time (a second request joins the first); at most `concurrency` orders at once. A new certificate
// replaces the served one as a new object, so the next TLS handshake builds a new context while
// connections already open keep the one they negotiated.
import type { AcmeAccount, AcmeProblem, AcmeRenewal, DnsProvider, PreflightReport } from '../../../../shared/acme.js';
import { ApiError, type FieldIssue } from '../../../../shared/api.js';
import type { Route } from '../../../../shared/model.js';
import type { RouteCertificate } from '../../../../shared/status.js';
import type { ServedCertificate } from '../../proxy/tls-certificates.js';
import { routeLabel } from '../../gateway/route-edits.js';
import { held } from '../held-certificates.js';
import { AcmeAccounts } from './accounts.js';
import { withDirectoryTrust } from './acme-http.js';
import { ariCertificateId, fetchRenewalInfo } from './ari.js';
import type { ChallengeStore } from './challenge-store.js';
import type { DnsChallengeProvider } from './dns/provider.js';
import { AcmeCertificateFiles, acmeRouteCertificate, emptySlot, heldCurrent, heldFits, type AcmeSlot, type OrderedFor } from './held-acme.js';
import { runOrder } from './order.js';
import { acmeProblemOf, caDisplayName } from './problems.js';
import { planRenewal } from './renewal-plan.js';

/** Orders running at once across routes; default of `concurrency`. */
const DEFAULT_CONCURRENCY = 2;
/** The longest wait between two checks, ms (6 hours): a late timer (the machine slept) still renews. */
const CHECK_INTERVAL_MS = 6 * 60 * 60 * 1000;
/** When a renewalInfo request failed: ask again after this long, ms (6 hours). */
const RENEWAL_INFO_RETRY_MS = 6 * 60 * 60 * 1000;
/** The soonest renewalInfo is asked again after an answer, whatever its Retry-After says, ms (1 minute). */
const RENEWAL_INFO_MIN_MS = 60_000;
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface AcmeServiceOptions {
  dataDir: string;
  /** The ACME settings now (accounts and DNS providers, as saved). */
  settings: () => { accounts: readonly AcmeAccount[]; dnsProviders: readonly DnsProvider[] };
  /** Where HTTP-01 answers go: the same store the proxy engine's `challenges` option reads. */
  challenges: ChallengeStore;
  /** A DNS provider by id, for DNS-01. Default: rejects (no providers in this build). */
  dnsProviderFor?: (providerId: string) => Promise<DnsChallengeProvider>;
  /** DNS servers the propagation wait asks ("ip" or "ip:port"); default the system's. */
  dnsResolvers?: readonly string[];
  /** Called whenever what routeCertificate() answers may have changed. */
  onChange: () => void;
  now?: () => Date;
  /** Orders at once (default 2). */
  concurrency?: number;
}

const noDnsProviders = async (): Promise<DnsChallengeProvider> => {
  throw new Error('DNS providers are not available in this build of Gatehouse, so the DNS challenge cannot be used yet');
};

export class AcmeService {
  readonly accounts: AcmeAccounts;
  readonly #options: AcmeServiceOptions;
  readonly #files: AcmeCertificateFiles;
  readonly #now: () => Date;
  readonly #slots = new Map<string, AcmeSlot>();
  #routes: Route[] = [];
  /** The same routes by id: certificateFor runs on every handshake and every plain-HTTP request (servesHttps). */
  #routesById = new Map<string, Route>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(options: AcmeServiceOptions) {
    this.#options = options;
    this.accounts = new AcmeAccounts(options.dataDir);
    this.#files = new AcmeCertificateFiles(options.dataDir);
    this.#now = options.now ?? (() => new Date());
  }

  /** Reads the accounts' records and the held certificates of `routes`. */
  static async open(options: AcmeServiceOptions, routes: readonly Route[]): Promise<AcmeService> {
    const service = new AcmeService(options);
    await service.accounts.load(options.settings().accounts);
    const loaded = await service.#files.load(routes.filter((route) => route.tls.mode === 'acme').map((route) => route.id));
    for (const [routeId, entry] of loaded) service.#slots.set(routeId, { ...emptySlot(), held: entry });
    return service;
  }

  certificateFor(routeId: string): ServedCertificate | null {
    const route = this.#routesById.get(routeId);
    const slot = this.#slots.get(routeId);
    if (!route || !slot?.held || !heldFits(slot.held, route)) return null;
    return this.#now() < slot.held.facts.notAfter ? slot.held.served : null;
  }

  /** What would make an ACME route's certificate impossible to order, per field. */
  routeIssues(route: Route): FieldIssue[] {
    const acme = route.tls.acme;
    if (route.tls.mode !== 'acme' || !acme) return [];
    const issues: FieldIssue[] = [];
    const { accounts, dnsProviders } = this.#options.settings();
    if (!accounts.some((account) => account.id === acme.accountId)) {
      issues.push({ path: 'tls.acme.accountId', message: `there is no ACME account "${acme.accountId}": add one on the Certificates page, or choose another` });
    }
    if (acme.challenge === 'dns-01' && acme.dnsProviderId !== null && !dnsProviders.some((provider) => provider.id === acme.dnsProviderId)) {
      issues.push({ path: 'tls.acme.dnsProviderId', message: `there is no DNS provider "${acme.dnsProviderId}": add one on the Certificates page, or choose another` });
    }
    route.names.forEach((name, i) => {
      if (name.startsWith('*.') && acme.challenge === 'http-01') {
        issues.push({ path: `names.${i}`, message: `a wildcard name (${name}) can only be validated through DNS: choose the DNS challenge (dns-01) and a DNS provider for this route` });
      }
    });
    return issues;
  }

  /** Takes the saved routes: forgets removed ones, orders what is missing or due (in the background). */
  setRoutes(routes: readonly Route[]): void {
    this.#routes = routes.filter((route) => route.tls.mode === 'acme' && route.tls.acme !== null);
    this.#routesById = new Map(this.#routes.map((route) => [route.id, route]));
    const ids = new Set(this.#routesById.keys());
    for (const routeId of [...this.#slots.keys()].filter((id) => !ids.has(id))) this.#slots.delete(routeId);
    if (!this.#closed) void this.#files.prune([...ids]);
    this.#check();
  }

  routeCertificate(route: Route): RouteCertificate {
    const slot = this.#slots.get(route.id) ?? emptySlot();
    return acmeRouteCertificate(route, slot, this.#renewal(route, slot), this.#now());
  }

  /** "Renew now": orders at once; answers with the route's certificate, or an ApiError with the sentence and fix. */
  async renewNow(routeId: string): Promise<RouteCertificate> {
    const route = this.#routesById.get(routeId);
    if (!route) throw new ApiError('not_found', `There is no ACME route "${routeId}".`);
    await this.#order(route);
    const slot = this.#slots.get(route.id)!;
    const problem = slot.lastAttempt?.ok === false ? slot.lastAttempt.problem : null;
    if (problem) throw new ApiError('conflict', problem.message, problem.fix ? { fix: problem.fix } : {});
    return this.routeCertificate(route);
  }

  /** Keeps a pre-flight report on the routes with exactly these names. */
  notePreflight(report: PreflightReport): void {
    const names = [...report.names].sort().join(',');
    for (const route of this.#routes.filter((candidate) => [...candidate.names].sort().join(',') === names)) {
      this.#slot(route.id).preflight = report;
    }
    this.#options.onChange();
  }

  /** Reads the accounts and the held certificates again after a restore replaced their files. */
  async reload(accounts: readonly AcmeAccount[], routes: readonly Route[]): Promise<void> {
    await this.accounts.reload(accounts);
    const loaded = await this.#files.load(routes.filter((route) => route.tls.mode === 'acme').map((route) => route.id));
    this.#slots.clear();
    for (const [routeId, entry] of loaded) this.#slots.set(routeId, { ...emptySlot(), held: entry });
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort(new Error('Gatehouse is shutting down'));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  // -------------------------------------------------------------------------------------------

  #slot(routeId: string): AcmeSlot {
    let slot = this.#slots.get(routeId);
    if (!slot) this.#slots.set(routeId, (slot = emptySlot()));
    return slot;
  }

  /**
   * When the route is renewed (or ordered) next: planRenewal decides (the CA's ARI window, else two
   * thirds of the lifetime; after failures a growing wait, never before the CA's Retry-After).
   */
  #plan(route: Route, slot: AcmeSlot, now: Date): { at: number; renewal: AcmeRenewal } {
    // A held certificate for another account, key type or profile is served, but ordered anew now.
    const fits = heldCurrent(slot.held, route) ? slot.held : null;
    const caRetry = slot.lastAttempt?.problem?.retryAt ? new Date(slot.lastAttempt.problem.retryAt) : null;
    const account = this.#account(route);
    const plan = planRenewal({
      facts: fits ? { notBefore: fits.facts.notBefore, notAfter: fits.facts.notAfter } : null,
      info: fits ? slot.renewalInfo : null,
      failures: slot.failures,
      lastFailureAt: slot.lastFailureAt,
      now,
      seed: route.id,
      ...(account ? { caLabel: caDisplayName(account.directoryUrl) } : {}),
      ...(caRetry && Number.isFinite(caRetry.getTime()) ? { retryNotBefore: caRetry } : {}),
    });
    return { at: plan.at, renewal: { at: new Date(plan.at).toISOString(), source: plan.source, reason: plan.reason, window: plan.window } };
  }

  #renewal(route: Route, slot: AcmeSlot): AcmeRenewal | null {
    return this.#plan(route, slot, this.#now()).renewal;
  }

  /** Starts the orders that are due, refreshes renewalInfo, and sets the next timer. */
  #check(): void {
    if (this.#closed) return;
    const clock = this.#now();
    const now = clock.getTime();
    for (const route of this.#routes) {
      const slot = this.#slot(route.id);
      if (slot.ordering) continue;
      // One clock for the plan and the comparison: "now" from the plan must count as due.
      if (this.#plan(route, slot, clock).at <= now) void this.#order(route);
      else if (heldCurrent(slot.held, route) && now >= slot.renewalInfoDue) void this.#refreshRenewalInfo(route, slot);
    }
    this.#scheduleNextCheck();
  }

  #scheduleNextCheck(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed) return;
    const clock = this.#now();
    const now = clock.getTime();
    const times = this.#routes.flatMap((route) => {
      const slot = this.#slot(route.id);
      if (slot.ordering) return [];
      return [this.#plan(route, slot, clock).at, ...(slot.held ? [slot.renewalInfoDue] : [])];
    });
    // Something already due (a route changed while its order ran, renewalInfo never asked) is checked at once.
    const next = Math.min(now + CHECK_INTERVAL_MS, ...times.map((time) => (time > now ? time + 1000 : now)));
    this.#timer = setTimeout(() => this.#check(), Math.max(0, Math.min(next - now, MAX_TIMER_DELAY_MS))).unref();
  }

  async #refreshRenewalInfo(route: Route, slot: AcmeSlot): Promise<void> {
    // Set before the first await: the check that started this must not start it again meanwhile.
    slot.renewalInfoDue = this.#now().getTime() + RENEWAL_INFO_RETRY_MS;
    const account = this.#account(route);
    const url = account ? await this.accounts.renewalInfoUrl(account) : null;
    const now = this.#now();
    if (!url || !slot.held || !account) {
      slot.renewalInfoDue = now.getTime() + RENEWAL_INFO_RETRY_MS;
      return;
    }
    try {
      const info = await withDirectoryTrust(account.directoryCaPem, () => fetchRenewalInfo(url, slot.held!.served.certificatePem, { ca: account.directoryCaPem, now }));
      slot.renewalInfo = info;
      slot.renewalInfoDue = Math.max(info.retryAfter.getTime(), now.getTime() + RENEWAL_INFO_MIN_MS);
    } catch {
      // Without an answer the lifetime rule stands; ask again later.
      slot.renewalInfoDue = now.getTime() + RENEWAL_INFO_RETRY_MS;
    }
    this.#options.onChange();
    this.#scheduleNextCheck();
  }

  #account(route: Route): AcmeAccount | undefined {
    return this.#options.settings().accounts.find((account) => account.id === route.tls.acme?.accountId);
  }

  /** Orders for the route, or joins the order already running for it. Never rejects. */
  #order(route: Route): Promise<void> {
    const slot = this.#slot(route.id);
    if (slot.ordering) return slot.ordering;
    const run = this.#withSlot(() => this.#attempt(route, slot)).finally(() => {
      slot.ordering = null;
      this.#options.onChange();
      this.#scheduleNextCheck();
    });
    slot.ordering = run;
    this.#options.onChange();
    return run;
  }

  async #withSlot(work: () => Promise<void>): Promise<void> {
    const limit = this.#options.concurrency ?? DEFAULT_CONCURRENCY;
    if (this.#running >= limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      await work();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  async #attempt(route: Route, slot: AcmeSlot): Promise<void> {
    if (this.#closed) return;
    const acme = route.tls.acme!;
    const account = this.#account(route);
    const startedAt = this.#now();
    try {
      if (!account) throw new Error(`the ACME account "${acme.accountId}" no longer exists`);
      const client = await this.accounts.clientFor(account);
      const replaces = await this.#replaces(slot, account);
      const dnsProviderId = acme.dnsProviderId;
      const dns =
        acme.challenge === 'dns-01' && dnsProviderId !== null
          ? async () => {
              const settings = this.#options.settings().dnsProviders.find((provider) => provider.id === dnsProviderId);
              const provider = await (this.#options.dnsProviderFor ?? noDnsProviders)(dnsProviderId);
              return { provider, propagationTimeoutMs: settings?.propagationTimeoutMs ?? 120_000, resolvers: this.#options.dnsResolvers };
            }
          : null;
      const pair = await withDirectoryTrust(account.directoryCaPem, () =>
        runOrder({ client, names: route.names, acme, replaces, challenges: this.#options.challenges, dns, signal: this.#abort.signal }),
      );
      if (this.#closed) return; // another instance may own the data directory now
      // Removed while its order ran: its certificate and key are not kept anywhere.
      if (!this.#routesById.has(route.id)) return;
      const orderedFor: OrderedFor = {
        accountId: acme.accountId,
        directoryUrl: account.directoryUrl,
        keyType: acme.keyType,
        profile: acme.profile,
        names: [...route.names],
        orderedAt: this.#now().toISOString(),
      };
      const entry = { ...held(pair), orderedFor };
      const unsaved = await this.#files.save(route.id, pair, orderedFor).then(
        () => null,
        (error: unknown) => error,
      );
      if (!this.#routesById.has(route.id)) {
        await this.#files.remove(route.id); // removed while it was being saved
        return;
      }
      // Swapped in as a new object: the next handshake gets it, open connections keep theirs.
      // A certificate that could not be saved is valid all the same: served from memory.
      slot.held = entry;
      slot.failures = 0;
      slot.lastFailureAt = null;
      slot.renewalInfo = null;
      slot.renewalInfoDue = 0;
      slot.lastAttempt = { at: startedAt.toISOString(), ok: unsaved === null, problem: unsaved === null ? null : this.#unsavedProblem(route, unsaved) };
      this.accounts.setProblem(account.id, null);
      if (unsaved !== null) console.error(`gatehouse: ${slot.lastAttempt.problem!.message}`);
    } catch (error) {
      if (this.#closed) return;
      const problem = this.#problemOf(error, route, account);
      // The certificate held before (if any) is still served: a failed renewal takes nothing away.
      slot.failures += 1;
      slot.lastFailureAt = this.#now();
      slot.lastAttempt = { at: startedAt.toISOString(), ok: false, problem };
      console.error(`gatehouse: the certificate for "${routeLabel(route)}" could not be ordered: ${problem.message}`);
    }
  }

  /**
   * The ARI id of the held certificate when this order replaces it (RFC 9773), else null. Only a
   * certificate issued through this same account and directory: a CA refuses `replaces` naming a
   * certificate the requesting account does not hold, so a route moved to another account (staging
   * to production) would never get its new certificate.
   */
  async #replaces(slot: AcmeSlot, account: AcmeAccount): Promise<string | null> {
    const previous = slot.held;
    if (!previous || previous.orderedFor.accountId !== account.id || (previous.orderedFor.directoryUrl ?? account.directoryUrl) !== account.directoryUrl) return null;
    if (!(await this.accounts.renewalInfoUrl(account))) return null;
    try {
      return ariCertificateId(previous.served.certificatePem);
    } catch {
      return null; // no ARI id: the order is simply not linked to the old certificate
    }
  }

  /** The CA issued the certificate but it could not be written: the data directory is the cause, not the CA. */
  #unsavedProblem(route: Route, error: unknown): AcmeProblem {
    const where = this.#files.root;
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const reasons: Record<string, string> = {
      ENOSPC: 'the disk is full',
      EDQUOT: 'the disk quota is used up',
      EACCES: 'permission denied',
      EPERM: 'permission denied',
      EROFS: 'the file system is read-only',
      ENOTDIR: 'a file is in the way of a folder',
      EEXIST: 'a file is in the way of a folder',
    };
    const reason = (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
    return {
      code: 'internal',
      message: `Gatehouse got the certificate for ${route.names.join(', ')} but could not save it in ${where}: ${reason}.`,
      fix: "Free space or fix the folder's permissions; it is served until Gatehouse restarts.",
      details: error instanceof Error ? `${code ?? error.name}: ${error.message}` : String(error),
      retryAt: null,
    };
  }

  #problemOf(error: unknown, route: Route, account: AcmeAccount | undefined): AcmeProblem {
    if (error instanceof ApiError) return { code: 'internal', message: error.message, ...(error.details.fix ? { fix: error.details.fix } : {}), details: null, retryAt: null };
    const acme = route.tls.acme!;
    return acmeProblemOf(error, { names: route.names, challenge: acme.challenge, directoryUrl: account?.directoryUrl ?? '' });
  }
}
