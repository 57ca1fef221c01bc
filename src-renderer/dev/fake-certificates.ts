// The certificate half of FakeGatehouse: a local CA, route certificates derived from the routes'
// tls modes, imported certificates, and a trust plan with the Linux steps. Errors are shaped like the
// real gateway's (invalid_input with issues naming the field), so the forms can be tried against it.
// Never part of the shipped bundle.
import { ApiError, type FieldIssue } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import type {
  CaDownload,
  CertificatesOverview,
  CustomCertificate,
  LocalCaSummary,
  ProxyStatus,
  QrCode,
  RouteCertificate,
  TrustPlan,
  TrustResult,
} from '../../shared/status.js';
import { FakeAcme } from './fake-acme.js';

/** A fixed 21×21 pattern (three finder squares and a checker body): enough to look like a QR code. */
export function fakeQr(): QrCode {
  const size = 21;
  let modules = '';
  const finder = (r: number, c: number) => {
    const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
    return ring !== 2;
  };
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      let dark: boolean;
      if (row < 7 && col < 7) dark = finder(row, col);
      else if (row < 7 && col >= size - 7) dark = finder(row, col - (size - 7));
      else if (row >= size - 7 && col < 7) dark = finder(row - (size - 7), col);
      else if (row === 7 || col === 7 || (row < 8 && col === size - 8) || (col < 8 && row === size - 8)) dark = false;
      else dark = (row * 7 + col * 3 + ((row * col) % 5)) % 3 === 0;
      modules += dark ? '1' : '0';
    }
  }
  return { size, modules };
}

const DAY = 86_400_000;
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeGatehouseLocalCA\n-----END CERTIFICATE-----\n';

function fingerprint(seed: number): string {
  return Array.from({ length: 32 }, (_, index) => ((seed * 37 + index * 53) % 256).toString(16).toUpperCase().padStart(2, '0')).join(':');
}

function withinDomains(name: string, domains: readonly string[]): boolean {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  return domains.some((domain) => bare === domain || bare.endsWith(`.${domain}`));
}

function nameCovered(name: string, certNames: readonly string[]): boolean {
  return certNames.some((certName) => certName === name || (certName.startsWith('*.') && name.split('.').slice(1).join('.') === certName.slice(2) && !name.startsWith('*.')));
}

export interface FakeCertificatesHost {
  routes: () => Route[];
  status: () => ProxyStatus;
  emit: (overview: CertificatesOverview) => void;
  now: () => Date;
}

export class FakeCertificates {
  ca: LocalCaSummary;
  custom: CustomCertificate[] = [];
  /** Route ids whose certificate is being issued, for screenshots and tests. */
  pending = new Set<string>();
  /** Per route id: a problem to report instead of a certificate. */
  failing = new Map<string, string>();
  trusted = false;
  /** ACME accounts, DNS providers and each ACME route's renewal and last attempt. */
  readonly acme: FakeAcme;
  #generation = 1;
  #nextId = 1;
  readonly #host: FakeCertificatesHost;

  constructor(host: FakeCertificatesHost) {
    this.#host = host;
    this.ca = this.#newCa(['home.arpa', 'local']);
    this.acme = new FakeAcme({ routes: host.routes, now: host.now, changed: () => this.changed() });
  }

  #newCa(domains: string[]): LocalCaSummary {
    const now = this.#host.now();
    return {
      subject: `CN=Gatehouse Local CA ${this.#generation}, O=Gatehouse`,
      fingerprintSha256: fingerprint(this.#generation),
      notBefore: now.toISOString(),
      notAfter: new Date(now.getTime() + 3650 * DAY).toISOString(),
      permittedDomains: domains,
      keyType: 'RSA 2048',
      certificatePem: CA_PEM,
    };
  }

  overview(): CertificatesOverview {
    const status = this.#host.status();
    const port = status.http && status.http.port !== 80 ? `:${status.http.port}` : '';
    // Like the gateway: a proxy bound to loopback has no address a phone can reach.
    const loopback = status.http?.address.startsWith('127.') ?? false;
    const urls = status.state === 'running' && !loopback ? status.lanAddresses.map((address) => `http://${address}${port}/ca`) : [];
    const problem =
      status.state === 'running' && loopback
        ? {
            code: 'proxy_loopback_only',
            message: `The proxy listens only on this machine (${status.http?.address}), so phones and other computers cannot reach the onboarding page.`,
            fix: 'Set the bind address to 0.0.0.0 in Settings (or start gatehouse serve without --bind), then scan the QR code.',
          }
        : null;
    return {
      ca: this.ca,
      onboarding: { urls, qr: urls.length > 0 ? fakeQr() : null, problem },
      routes: this.#host.routes().map((route) => this.#routeCertificate(route)),
      custom: this.custom.map((cert) => ({ ...cert, usedBy: this.#host.routes().filter((route) => route.tls.certificateId === cert.id).map((route) => route.id) })),
      acme: this.acme.overview(),
    };
  }

  #routeCertificate(route: Route): RouteCertificate {
    const empty: RouteCertificate = {
      routeId: route.id,
      mode: route.tls.mode,
      state: 'none',
      names: [],
      issuer: null,
      notBefore: null,
      notAfter: null,
      fingerprintSha256: null,
      renewsAt: null,
      problem: null,
      acme: null,
    };
    if (route.tls.mode === 'none') return empty;
    const failing = this.failing.get(route.id);
    if (failing) return { ...empty, state: 'error', problem: { code: 'certificate_failed', message: failing, fix: 'Press "Renew now" to try again.' } };
    if (this.pending.has(route.id)) return { ...empty, state: 'pending' };
    if (route.tls.mode === 'acme') return this.#acmeCertificate(route, empty);
    if (route.tls.mode === 'custom') {
      const cert = this.custom.find((candidate) => candidate.id === route.tls.certificateId);
      if (!cert) return { ...empty, state: 'error', problem: { code: 'certificate_missing', message: 'The imported certificate is gone.', fix: 'Choose another certificate in the route form.' } };
      return { ...empty, state: cert.state, names: cert.names, issuer: cert.issuer, notBefore: cert.notBefore, notAfter: cert.notAfter, fingerprintSha256: cert.fingerprintSha256 };
    }
    const outside = route.names.find((name) => !withinDomains(name, this.ca.permittedDomains));
    if (outside) {
      return { ...empty, state: 'error', problem: { code: 'name_outside_ca', message: `"${outside}" is outside the local CA's domains.`, fix: 'Add its domain under "Change domains…", or use an imported certificate.' } };
    }
    const issued = new Date(this.#host.now().getTime() - DAY);
    return {
      ...empty,
      state: 'valid',
      names: route.names,
      issuer: this.ca.subject,
      notBefore: issued.toISOString(),
      notAfter: new Date(issued.getTime() + 200 * DAY).toISOString(),
      fingerprintSha256: fingerprint(this.#generation * 100 + route.id.length),
      renewsAt: new Date(issued.getTime() + 140 * DAY).toISOString(),
    };
  }

  #acmeCertificate(route: Route, empty: RouteCertificate): RouteCertificate {
    const held = this.acme.routeState(route);
    if (!held) return { ...empty, state: 'error', problem: { code: 'acme_missing', message: 'The route has no ACME account chosen.', fix: 'Choose an account in the route form.' } };
    const { state: acme, issuer, notBefore, notAfter } = held;
    const failed = acme.lastAttempt && !acme.lastAttempt.ok ? acme.lastAttempt.problem : null;
    if (!notAfter) {
      const problem = failed ? { code: failed.code, message: failed.message, ...(failed.fix ? { fix: failed.fix } : {}) } : null;
      return { ...empty, state: failed ? 'error' : 'pending', problem, acme };
    }
    const daysLeft = (new Date(notAfter).getTime() - this.#host.now().getTime()) / DAY;
    return {
      ...empty,
      state: daysLeft <= 0 ? 'expired' : daysLeft < 14 ? 'expiring' : 'valid',
      names: route.names,
      issuer,
      notBefore,
      notAfter,
      fingerprintSha256: fingerprint(900 + route.id.length),
      renewsAt: acme.renewal?.at ?? null,
      acme,
    };
  }

  changed(): void {
    this.#host.emit(this.overview());
  }

  /** The issues a route's tls would get from the real gateway; empty when it can be served. */
  routeIssues(route: Pick<Route, 'names' | 'tls'>): FieldIssue[] {
    if (route.tls.mode === 'local') {
      return route.names.flatMap((name, index) =>
        withinDomains(name, this.ca.permittedDomains)
          ? []
          : [{ path: `names.${index}`, message: `"${name}" is outside the local CA's domains (${this.ca.permittedDomains.join(', ')}); add its domain under Certificates, or choose an imported certificate` }],
      );
    }
    if (route.tls.mode === 'acme') return this.acme.routeIssues(route);
    if (route.tls.mode === 'custom') {
      const cert = this.custom.find((candidate) => candidate.id === route.tls.certificateId);
      if (!cert) return [{ path: 'tls.certificateId', message: 'there is no imported certificate with this id; choose another one' }];
      return route.names.flatMap((name, index) => (nameCovered(name, cert.names) ? [] : [{ path: `names.${index}`, message: `the certificate "${cert.label}" does not cover "${name}"` }]));
    }
    return [];
  }

  setDomains(domains: string[]): CertificatesOverview {
    this.#generation += 1;
    this.ca = this.#newCa(domains);
    this.trusted = false;
    this.changed();
    return this.overview();
  }

  download(format: 'pem' | 'der' | 'mobileconfig'): CaDownload {
    const text = format === 'mobileconfig' ? '<?xml version="1.0"?><plist version="1.0"><dict/></plist>\n' : format === 'pem' ? CA_PEM : 'fake DER bytes';
    const fileName = { pem: 'gatehouse-ca.pem', der: 'gatehouse-ca.crt', mobileconfig: 'gatehouse-ca.mobileconfig' }[format];
    const mimeType = { pem: 'application/x-pem-file', der: 'application/x-x509-ca-cert', mobileconfig: 'application/x-apple-aspen-config' }[format];
    return { fileName, mimeType, base64: btoa(text) };
  }

  import(input: { label?: string; certificatePem: string; privateKeyPem: string; chainPem?: string }): CustomCertificate {
    const issues: FieldIssue[] = [];
    if (!input.certificatePem.includes('-----BEGIN CERTIFICATE-----')) issues.push({ path: 'certificatePem', message: 'this is not a PEM certificate (it should start with -----BEGIN CERTIFICATE-----)' });
    if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(input.privateKeyPem)) issues.push({ path: 'privateKeyPem', message: 'this is not a PEM private key (it should start with -----BEGIN PRIVATE KEY-----)' });
    else if (input.privateKeyPem.includes('WRONG')) issues.push({ path: 'privateKeyPem', message: 'the private key does not match the certificate' });
    if (input.chainPem !== undefined && input.chainPem.trim() !== '' && !input.chainPem.includes('-----BEGIN CERTIFICATE-----')) {
      issues.push({ path: 'chainPem', message: 'the chain is not PEM certificates' });
    }
    if (issues.length > 0) throw new ApiError('invalid_input', `${issues[0]!.path}: ${issues[0]!.message}`, { issues });
    const now = this.#host.now();
    const names = ['*.home.example', 'home.example'];
    const cert: CustomCertificate = {
      id: `cert${String(this.#nextId++).padStart(6, '0')}`,
      label: input.label?.trim() || names[0]!,
      names,
      issuer: 'CN=Example Issuing CA, O=Example',
      notBefore: now.toISOString(),
      notAfter: new Date(now.getTime() + 90 * DAY).toISOString(),
      fingerprintSha256: fingerprint(500 + this.#nextId),
      chainLength: input.chainPem ? 1 : 0,
      usedBy: [],
      state: 'valid',
      problem: null,
    };
    this.custom.push(cert);
    this.changed();
    return cert;
  }

  remove(id: string): { removed: CustomCertificate } {
    const cert = this.overview().custom.find((candidate) => candidate.id === id);
    if (!cert) throw new ApiError('not_found', `There is no imported certificate "${id}".`);
    if (cert.usedBy.length > 0) throw new ApiError('conflict', `"${cert.label}" is used by ${cert.usedBy.length} route(s).`, { fix: 'Choose another certificate for those routes first.' });
    this.custom = this.custom.filter((candidate) => candidate.id !== id);
    this.changed();
    return { removed: cert };
  }

  renew(routeId: string): RouteCertificate {
    const route = this.#host.routes().find((candidate) => candidate.id === routeId);
    if (!route) throw new ApiError('not_found', `There is no route "${routeId}".`);
    if (route.tls.mode === 'custom' || route.tls.mode === 'none') throw new ApiError('invalid_input', 'Only certificates from the local CA or Let\'s Encrypt can be renewed by Gatehouse.', { fix: 'Import a new certificate instead.' });
    if (route.tls.mode === 'acme') this.acme.order(route);
    this.failing.delete(routeId);
    this.pending.delete(routeId);
    this.changed();
    return this.#routeCertificate(route);
  }

  trustPlan(): TrustPlan {
    const file = '/home/me/.local/share/gatehouse/ca/gatehouse-ca.crt';
    const nss = 'sql:/home/me/.pki/nssdb';
    const nickname = 'Gatehouse Local CA';
    return {
      platform: 'linux',
      supported: true,
      install: [
        { store: 'System certificates (update-ca-certificates)', command: ['pkexec', 'sh', '-c', `cp ${file} /usr/local/share/ca-certificates/gatehouse-ca.crt && update-ca-certificates`], needsAdmin: true },
        { store: 'Chromium and Chrome (NSS)', command: ['certutil', '-d', nss, '-A', '-t', 'C,,', '-n', nickname, '-i', file], needsAdmin: false },
      ],
      uninstall: [
        { store: 'System certificates (update-ca-certificates)', command: ['pkexec', 'sh', '-c', 'rm -f /usr/local/share/ca-certificates/gatehouse-ca.crt && update-ca-certificates --fresh'], needsAdmin: true },
        { store: 'Chromium and Chrome (NSS)', command: ['certutil', '-d', nss, '-D', '-n', nickname], needsAdmin: false },
      ],
      installed: [
        { store: 'System certificates (update-ca-certificates)', trusted: this.trusted },
        { store: 'Chromium and Chrome (NSS)', trusted: this.trusted },
      ],
      problem: null,
    };
  }

  runTrust(install: boolean): TrustResult {
    const plan = this.trustPlan();
    const steps = (install ? plan.install : plan.uninstall).map((step) => ({
      store: step.store,
      command: step.command,
      ok: true,
      output: install ? 'Updating certificates… 1 added, 0 removed; done.' : 'Updating certificates… 0 added, 1 removed; done.',
    }));
    this.trusted = install;
    return { steps, plan: this.trustPlan() };
  }
}
