// The certificate service: the local CA, a leaf per local-CA route, imported certificates, and the
// neutral fallback, behind the one interface the HTTPS listener uses (RouteCertificates).
//
// Key types and sizes:
// - local CA: RSA 2048, sha256WithRSAEncryption, 10 years, name-constrained (local-ca.ts).
// - route leaves: RSA 2048, signed sha256WithRSAEncryption by the CA, LEAF_VALIDITY_DAYS (397).
//   Not ECDSA P-256, though it would be faster to make and to serve: node-forge, which builds the
//   certificates, has no EC support, and carrying an EC key through it would mean splicing the
//   SubjectPublicKeyInfo and the key identifier into forge's ASN.1 by hand. To keep issuance quick
//   anyway, `spareKeys` RSA keys are generated ahead of time in the background (spare-keys.ts).
// - neutral fallback: RSA 2048, self-signed, CN "Gatehouse", only gatehouse.invalid.
// - custom certificates: whatever was imported (RSA, ECDSA, Ed25519: node:tls serves them all).
//
// Every change goes through one queue (#serially), so issuing for one setRoutes never races with the
// next, a renewal or a CA change; reads (certificateFor, routeCertificates) never wait for it.
import { X509Certificate } from 'node:crypto';
import { ApiError, type ApiParsedInput, type FieldIssue } from '../../../shared/api.js';
import { normalizeHostname, type Route } from '../../../shared/model.js';
import type { CustomCertificate, RouteCertificate } from '../../../shared/status.js';
import { newRouteId, routeLabel } from '../gateway/route-edits.js';
import type { RouteCertificates, ServedCertificate } from '../proxy/tls-certificates.js';
import { namesCover, readableDate, stateChangeTimes } from './certificate-facts.js';
import { CertificateFiles, leafFolder } from './certificate-files.js';
import { caDomainOrInvalid, issuanceProblem, outsideDomains, outsideDomainsProblem, refuseRoutesLeftOut } from './certificate-problems.js';
import { checkImport } from './custom-import.js';
import { makeFallbackCertificate } from './fallback-certificate.js';
import {
  customCertificateOf,
  customRouteCertificate,
  held,
  heldIfPair,
  localRouteCertificate,
  renewsAt,
  type CustomEntry,
  type Held,
  type LeafSlot,
} from './held-certificates.js';
import { issueLeaf } from './leaf.js';
import { LocalCa } from './local-ca.js';
import { isWithinDomain } from './name-constraints.js';
import { SpareKeys } from './spare-keys.js';
import type { AcmeService } from './acme/acme-service.js';

/** The ACME service as this one uses it: routes with `tls.mode: "acme"` are its (acme/acme-service.ts). */
export type AcmeSide = Pick<AcmeService, 'certificateFor' | 'routeIssues' | 'setRoutes' | 'routeCertificate' | 'renewNow'>;

/**
 * The longest the service waits between two checks of renewals and expiry thresholds, in
 * milliseconds (6 hours). Checks also run at each threshold and retry time that comes sooner. Every
 * check compares the clock with the thresholds (renewsAt, stateChangeTimes), so a check that runs
 * late (the machine slept) still renews; no timer is ever set for a far-off time.
 */
const CHECK_INTERVAL_MS = 6 * 60 * 60 * 1000;
/** After a failed issuance or renewal, when the service tries again on its own; default of `retryAfterFailureMs` (1 hour). */
const RETRY_AFTER_FAILURE_MS = 60 * 60 * 1000;
/** A check set for a threshold runs this long after it (ms), so the clock has surely passed it. */
const THRESHOLD_MARGIN_MS = 1000;
/** setTimeout's own limit (ms): a longer delay would fire at once. CHECK_INTERVAL_MS stays far below it. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** RSA keys kept ready for the next leaves; default of `spareKeys`. */
const DEFAULT_SPARE_KEYS = 2;

export interface CertificateServiceOptions {
  dataDir: string;
  /** Called whenever routeCertificates() or customCertificates() would answer differently. */
  onChange: () => void;
  /** Clock; default the real one. Tests move it forward to reach renewal and expiry. */
  now?: () => Date;
  /** RSA keys generated ahead of time (default 2); 0 generates each key when it is needed. */
  spareKeys?: number;
  /** Milliseconds after a failed issuance before the service tries again on its own; default 1 hour. */
  retryAfterFailureMs?: number;
  /** Certificates for ACME routes. Default: none (such a route is served the fallback). */
  acme?: AcmeSide;
}

export class CertificateService implements RouteCertificates {
  readonly #dataDir: string;
  readonly #files: CertificateFiles;
  readonly #onChange: () => void;
  readonly #now: () => Date;
  readonly #spareKeys: SpareKeys;
  readonly #retryAfterFailureMs: number;
  readonly #acme: AcmeSide | null;
  #ca: LocalCa;
  /** The CA certificate, to tell whether a leaf was issued by the current CA. */
  #caCertificate: X509Certificate;
  readonly #fallback: ServedCertificate;
  /** Leaves by folder (leafFolder(route id)). */
  readonly #leaves = new Map<string, LeafSlot>();
  readonly #custom = new Map<string, CustomEntry>();
  /** The routes of the last setRoutes (or renew, setCaDomains). */
  #routes: readonly Route[] = [];
  #routesKnown = false;
  #routesById = new Map<string, Route>();
  #queue: Promise<unknown> = Promise.resolve();
  #lastSnapshot = '';
  /** The next check (#scheduleNextCheck); null before the first and after close. */
  #checkTimer: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(options: CertificateServiceOptions, ca: LocalCa, spareKeys: SpareKeys, fallback: ServedCertificate) {
    this.#dataDir = options.dataDir;
    this.#files = new CertificateFiles(ca.files.dir);
    this.#onChange = options.onChange;
    this.#now = options.now ?? (() => new Date());
    this.#ca = ca;
    this.#caCertificate = new X509Certificate(ca.info.certificatePem);
    this.#spareKeys = spareKeys;
    this.#fallback = fallback;
    this.#retryAfterFailureMs = options.retryAfterFailureMs ?? RETRY_AFTER_FAILURE_MS;
    this.#acme = options.acme ?? null;
  }

  /** Opens (or creates) the local CA, loads stored leaves and imported certificates, makes the fallback. */
  static async open(options: CertificateServiceOptions): Promise<CertificateService> {
    const now = options.now ?? (() => new Date());
    const spareKeys = new SpareKeys(options.spareKeys ?? DEFAULT_SPARE_KEYS);
    try {
      const [ca, fallbackKeys] = await Promise.all([LocalCa.open(options.dataDir, { now: now() }), spareKeys.take()]);
      const service = new CertificateService(options, ca, spareKeys, makeFallbackCertificate(fallbackKeys, now()));
      await service.#load();
      return service;
    } catch (error) {
      spareKeys.close();
      throw error;
    }
  }

  get ca(): LocalCa {
    return this.#ca;
  }

  /** Resolves once the spare keys are made: the next leaf is then issued at its quickest (tests, the bench). */
  spareKeysReady(): Promise<void> {
    return this.#spareKeys.whenSettled();
  }

  fallback(): ServedCertificate {
    return this.#fallback;
  }

  certificateFor(routeId: string): ServedCertificate | null {
    const route = this.#routesById.get(routeId);
    // A passed-through route has no certificate of Gatehouse's: its upstream presents its own.
    if (!route || route.tls.mode === 'passthrough' || route.tls.mode === 'none') return null;
    if (route.tls.mode === 'acme') return this.#acme?.certificateFor(routeId) ?? null;
    const now = this.#now().getTime();
    const held = route.tls.mode === 'local' ? this.#leaves.get(leafFolder(routeId))?.leaf : this.#usableCustom(route);
    return held && now < held.facts.notAfter.getTime() ? held.served : null;
  }

  /** Throws ApiError('invalid_input') naming each field of `route` whose certificate cannot work. */
  checkRoute(route: Route): void {
    const issues: FieldIssue[] = [];
    if (route.tls.mode === 'acme') {
      issues.push(...(this.#acme?.routeIssues(route) ?? [{ path: 'tls.mode', message: 'ACME certificates are not available in this build: choose the local CA or a custom certificate' }]));
    } else if (route.tls.mode === 'local') {
      const domains = this.#ca.info.permittedDomains;
      route.names.forEach((name, i) => {
        if (!domains.some((domain) => isWithinDomain(name, domain))) {
          issues.push({
            path: `names.${i}`,
            message: `${outsideDomains(name, domains)}: add its domain on the Certificates page, or choose a custom certificate for this route`,
          });
        }
      });
    } else if (route.tls.mode === 'custom' && route.tls.certificateId !== null) {
      const id = route.tls.certificateId;
      const custom = this.#custom.get(id);
      const issue = (message: string) => issues.push({ path: 'tls.certificateId', message });
      if (!custom) issue(`there is no imported certificate "${id}": import it on the Certificates page, or choose another`);
      else {
        for (const name of route.names.filter((name) => !namesCover(custom.facts.names, name))) {
          issue(`the certificate "${custom.label}" does not cover "${name}" (it is for ${custom.facts.names.join(', ')}): choose or import one that does`);
        }
        if (this.#now() >= custom.facts.notAfter) issue(`the certificate "${custom.label}" expired on ${readableDate(custom.facts.notAfter)}: import the renewed one`);
      }
    }
    if (issues.length > 0) {
      throw new ApiError('invalid_input', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), { issues });
    }
  }

  /** Takes the saved routes: issues missing or outdated leaves, forgets those of removed routes. */
  setRoutes(routes: readonly Route[]): Promise<void> {
    this.#useRoutes(routes);
    // ACME orders run in the background: a save never waits for a CA.
    this.#acme?.setRoutes(routes);
    return this.#serially(() => this.#reconcile());
  }

  routeCertificates(): RouteCertificate[] {
    return this.#routes.map((route) => this.#routeCertificate(route));
  }

  customCertificates(routes: readonly Route[]): CustomCertificate[] {
    const now = this.#now();
    return [...this.#custom.values()].map((entry) => customCertificateOf(entry, routes, now));
  }

  importCertificate(input: ApiParsedInput<'importCertificate'>): Promise<CustomCertificate> {
    return this.#serially(async () => {
      const checked = checkImport(input, this.#now());
      const id = newRouteId([...this.#custom.keys()].map((key) => ({ id: key })));
      const label = input.label || checked.facts.names[0]!;
      const importedAt = this.#now().toISOString();
      await this.#files.saveCustom(id, checked, { label, importedAt });
      this.#custom.set(id, { ...held(checked), id, label, importedAt, chainLength: checked.chainLength });
      this.#notifyIfChanged();
      this.#scheduleNextCheck(); // its own thresholds (expiring, expired) may come before the next check
      return this.customCertificates(this.#routes).find((custom) => custom.id === id)!;
    });
  }

  removeCertificate(id: string, routes: readonly Route[]): Promise<CustomCertificate> {
    return this.#serially(async () => {
      const custom = this.customCertificates(routes).find((entry) => entry.id === id);
      if (!custom) throw new ApiError('not_found', `There is no imported certificate "${id}".`);
      if (custom.usedBy.length > 0) {
        const users = routes.filter((route) => custom.usedBy.includes(route.id)).map((route) => `"${routeLabel(route)}"`);
        throw new ApiError('conflict', `The certificate "${custom.label}" is used by ${users.join(', ')}.`, {
          fix: 'Choose another certificate (or the local CA) for those routes first, then remove it.',
        });
      }
      await this.#files.removeCustom(id);
      this.#custom.delete(id);
      this.#notifyIfChanged();
      return custom;
    });
  }

  /**
   * Issues a new leaf for a local-CA route now. Rejects when it cannot: ApiError 'conflict' for a
   * name outside the CA's domains, 'internal' when issuing or saving failed (the route's certificate
   * then shows the same problem, and the service tries again on its own).
   */
  renew(routeId: string, routes: readonly Route[]): Promise<RouteCertificate> {
    // Outside the queue: an ACME order can take minutes and must not hold up local-CA changes.
    const acmeRoute = routes.find((candidate) => candidate.id === routeId && candidate.tls.mode === 'acme');
    if (acmeRoute && this.#acme) return this.#acme.renewNow(routeId);
    return this.#serially(async () => {
      const route = routes.find((candidate) => candidate.id === routeId);
      if (!route) throw new ApiError('not_found', `There is no route "${routeId}".`);
      if (route.tls.mode === 'passthrough') {
        throw new ApiError('conflict', `"${routeLabel(route)}" passes TLS through: its service presents its own certificate, and Gatehouse holds none for it.`, {
          fix: 'Renew the certificate on the service itself, or let Gatehouse terminate TLS (local CA, custom or Let\'s Encrypt).',
        });
      }
      if (route.tls.mode !== 'local') {
        throw new ApiError('conflict', `"${routeLabel(route)}" does not use the local CA or ACME, so Gatehouse cannot renew its certificate.`, {
          fix: route.tls.mode === 'custom' ? 'Import the renewed certificate and choose it for the route.' : 'Choose the local CA for the route first.',
        });
      }
      this.#useRoutes(routes);
      const outside = this.#nameOutsideCa(route);
      if (outside !== undefined) throw ApiError.fromProblem('conflict', outsideDomainsProblem(outside, this.#ca.info.permittedDomains));
      await this.#issueFor([route]);
      this.#scheduleNextCheck();
      const problem = this.#leaves.get(leafFolder(route.id))?.problem;
      if (problem) throw ApiError.fromProblem('internal', problem);
      return this.#routeCertificate(route);
    });
  }

  /**
   * Replaces the local CA with a new one (new key, new serial) limited to `domains`, keeping the
   * old files in certs/replaced-<time>/ (LocalCa.replace), and re-issues every local-CA route's leaf.
   * Refused (ApiError 'conflict', nothing changed) while a local-CA route has a name the new
   * domains would leave out: that route would lose its certificate.
   */
  setCaDomains(domains: string[], routes: readonly Route[]): Promise<void> {
    return this.#serially(async () => {
      const canonical = [...new Set(domains.map(caDomainOrInvalid))];
      refuseRoutesLeftOut(canonical, routes);
      this.#ca = await LocalCa.replace(this.#dataDir, { domains: canonical, now: this.#now() });
      this.#caCertificate = new X509Certificate(this.#ca.info.certificatePem);
      this.#useRoutes(routes);
      await this.#reconcile();
    });
  }

  /**
   * Reads the CA, the route leaves and the imports from the data directory again, after a restore
   * replaced the files, and takes `routes` (the restored ones) without issuing: the gateway's next
   * setRoutes issues only what is missing. Queued like every change.
   */
  reloadFromDisk(routes: readonly Route[]): Promise<void> {
    return this.#serially(async () => {
      this.#ca = await LocalCa.open(this.#dataDir, { now: this.#now() });
      this.#caCertificate = new X509Certificate(this.#ca.info.certificatePem);
      this.#leaves.clear();
      this.#custom.clear();
      await this.#load();
      this.#useRoutes(routes);
    });
  }

  close(): void {
    this.#closed = true;
    if (this.#checkTimer) clearTimeout(this.#checkTimer);
    this.#checkTimer = null;
    this.#spareKeys.close();
  }

  // -------------------------------------------------------------------------------------------

  async #load(): Promise<void> {
    for (const [folder, pair] of await this.#files.loadLeaves()) {
      const leaf = heldIfPair(pair);
      if (leaf) this.#leaves.set(folder, { leaf, pending: false, problem: null, retryAt: null });
    }
    for (const [id, stored] of await this.#files.loadCustom()) {
      const entry = heldIfPair(stored);
      if (!entry) continue;
      const chainLength = stored.certificatePem.split('-----BEGIN CERTIFICATE-----').length - 2;
      this.#custom.set(id, { ...entry, id, label: stored.label || entry.facts.names[0] || id, importedAt: stored.importedAt, chainLength });
    }
  }

  #useRoutes(routes: readonly Route[]): void {
    this.#routes = [...routes];
    this.#routesKnown = true;
    this.#routesById = new Map(routes.map((route) => [route.id, route]));
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Brings the leaves in line with the routes, the CA and the clock; never rejects. */
  async #reconcile(): Promise<void> {
    // Before the first setRoutes every stored leaf would look like a removed route's.
    if (this.#closed || !this.#routesKnown) return;
    try {
      const local = this.#routes.filter((route) => route.tls.mode === 'local');
      const keep = new Set(local.map((route) => leafFolder(route.id)));
      for (const folder of [...this.#leaves.keys()].filter((folder) => !keep.has(folder))) {
        this.#leaves.delete(folder);
        // A folder that stays is loaded at the next start, seen as a removed route's, and removed then.
        await this.#files.removeLeaf(folder).catch(() => undefined);
      }
      const issuable: Route[] = [];
      for (const route of local) {
        const outside = this.#nameOutsideCa(route);
        if (outside === undefined) {
          issuable.push(route);
          continue;
        }
        // Only a settings file edited by hand gets here: saves and CA changes refuse such a route.
        const problem = outsideDomainsProblem(outside, this.#ca.info.permittedDomains);
        this.#leaves.set(leafFolder(route.id), { leaf: null, pending: false, problem, retryAt: null });
        await this.#files.removeLeaf(leafFolder(route.id)).catch(() => undefined);
      }
      await this.#issueFor(issuable.filter((route) => this.#needsLeaf(route)));
    } finally {
      this.#scheduleNextCheck();
    }
  }

  /** The first of the route's names outside the CA's domains, or undefined when it has none. */
  #nameOutsideCa(route: Route): string | undefined {
    const domains = this.#ca.info.permittedDomains;
    return route.names.find((name) => !domains.some((domain) => isWithinDomain(name, domain)));
  }

  /** True when the route's leaf is missing, outdated, from another CA, due for renewal, or due for a retry. */
  #needsLeaf(route: Route): boolean {
    const slot = this.#leaves.get(leafFolder(route.id));
    const leaf = slot?.leaf;
    if (!leaf) return true;
    const now = this.#now().getTime();
    if (slot.retryAt !== null && now >= slot.retryAt) return true;
    const wanted = new Set(route.names.map(normalizeHostname));
    const sameNames = leaf.facts.names.length === wanted.size && leaf.facts.names.every((name) => wanted.has(name));
    const fromThisCa = leaf.x509.checkIssued(this.#caCertificate) && leaf.x509.verify(this.#caCertificate.publicKey);
    return !sameNames || !fromThisCa || now >= renewsAt(leaf.facts);
  }

  async #issueFor(routes: readonly Route[]): Promise<void> {
    if (routes.length === 0) return this.#notifyIfChanged();
    for (const route of routes) {
      const folder = leafFolder(route.id);
      const slot = this.#leaves.get(folder);
      // A problem from the last attempt stays shown until this one ends: no flicker to "valid" and back.
      this.#leaves.set(folder, { leaf: slot?.leaf ?? null, pending: true, problem: slot?.problem ?? null, retryAt: slot?.retryAt ?? null });
    }
    this.#notifyIfChanged();
    await Promise.all(routes.map((route) => this.#issue(route)));
    this.#notifyIfChanged();
  }

  async #issue(route: Route): Promise<void> {
    if (this.#closed) return; // no writes after close: another instance may own the data directory next
    const folder = leafFolder(route.id);
    try {
      const keys = await this.#spareKeys.take();
      const issued = await issueLeaf(this.#ca, route.names, { now: this.#now(), keys });
      await this.#files.saveLeaf(folder, issued);
      this.#leaves.set(folder, { leaf: held(issued), pending: false, problem: null, retryAt: null });
    } catch (error) {
      // The leaf held before (if any) is still served: a failed renewal takes nothing away.
      const leaf = this.#leaves.get(folder)?.leaf ?? null;
      const retryAt = this.#now().getTime() + this.#retryAfterFailureMs;
      this.#leaves.set(folder, { leaf, pending: false, problem: issuanceProblem(leaf, error as Error, retryAt), retryAt });
    }
  }

  #routeCertificate(route: Route): RouteCertificate {
    const now = this.#now();
    if (route.tls.mode === 'acme' && this.#acme) return this.#acme.routeCertificate(route);
    if (route.tls.mode === 'local') return localRouteCertificate(route, this.#leaves.get(leafFolder(route.id)), now);
    const custom = route.tls.certificateId === null ? undefined : this.#custom.get(route.tls.certificateId);
    return customRouteCertificate(route, custom, now);
  }

  #usableCustom(route: Route): Held | undefined {
    const custom = route.tls.certificateId === null ? undefined : this.#custom.get(route.tls.certificateId);
    return custom && route.names.every((name) => namesCover(custom.facts.names, name)) ? custom : undefined;
  }

  /** Calls onChange when what the API shows differs from the last time it was called. */
  #notifyIfChanged(): void {
    // The CA's fingerprint too: a new CA changes what the Certificates page shows even without routes.
    const snapshot = JSON.stringify([this.#ca.info.fingerprintSha256, this.routeCertificates(), this.customCertificates(this.#routes)]);
    if (snapshot === this.#lastSnapshot) return;
    this.#lastSnapshot = snapshot;
    if (this.#closed) return;
    try {
      this.#onChange();
    } catch (error) {
      // A listener's bug must not turn into a failed save or an unhandled rejection from a timer.
      console.error('gatehouse: a certificates change listener failed:', error);
    }
  }

  /**
   * Sets the one timer for the next check: at the first renewal, state change or retry still to
   * come, or CHECK_INTERVAL_MS from now, whichever is sooner. Called after every check, so the
   * checks go on as a chain while the service is open.
   */
  #scheduleNextCheck(): void {
    if (this.#checkTimer) clearTimeout(this.#checkTimer);
    this.#checkTimer = null;
    if (this.#closed) return;
    const now = this.#now().getTime();
    const times: number[] = [];
    for (const slot of this.#leaves.values()) {
      if (slot.leaf) times.push(renewsAt(slot.leaf.facts), ...stateChangeTimes(slot.leaf.facts));
      if (slot.retryAt !== null) times.push(slot.retryAt);
    }
    for (const entry of this.#custom.values()) times.push(...stateChangeTimes(entry.facts));
    const next = Math.min(now + CHECK_INTERVAL_MS, ...times.filter((time) => time > now).map((time) => time + THRESHOLD_MARGIN_MS));
    const delay = Math.max(0, Math.min(next - now, MAX_TIMER_DELAY_MS));
    // Unref'd: a pending check never keeps the process (gatehouse serve, a test) alive on its own.
    this.#checkTimer = setTimeout(() => void this.#serially(() => this.#reconcile()), delay).unref();
  }
}
