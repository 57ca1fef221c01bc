// The doctor's third step: what certificate does a browser get for the route's names? A real TLS
// handshake with the name as SNI goes to the proxy's HTTPS port (the address the port step reached),
// and the certificate served is judged as a browser here would: does it cover the name, is it within
// its dates (and not about to run out), and does this machine trust it (the system's CA store, and
// whether Gatehouse's local CA is installed in this machine's trust stores). A passed-through route
// gets the upstream's own certificate through the same handshake, and is judged the same way.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import type { DoctorCheck } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';
import type { RouteCertificate, TrustPlan } from '../../../shared/status.js';
import { askedName } from './doctor-dns.js';
import { listText, secondsText, within } from './doctor.js';

/** A handshake may take this long, ms. Default: 1500. */
export const HANDSHAKE_TIMEOUT_MS = 1500;
/** A certificate that ends within this many days is a warning. */
export const EXPIRY_WARNING_DAYS = 14;
/** Names whose served certificate is checked, at most. */
const MAX_NAMES = 4;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface DoctorCertificateDeps {
  /** The route's certificate as the Certificates page shows it (undefined for passthrough). */
  routeCertificate: (routeId: string) => RouteCertificate | undefined;
  /** Gatehouse's local CA, PEM. */
  localCaPem: () => string;
  /** Which of this machine's trust stores hold the local CA (certificate-handlers' getTrustPlan). */
  trustPlan: () => Promise<TrustPlan>;
  /** CA certificates this machine trusts; default: Node's and the system's store. */
  trustedCas?: () => string[];
  timeoutMs?: number;
  now?: () => number;
}

let systemCas: string[] | null = null;
/**
 * The CAs this machine trusts, read once: Node's own list and the OS store where Node can read it
 * (Node 22.15+), else Node's list and the system bundle (Linux).
 */
export function systemTrustedCas(): string[] {
  if (systemCas) return systemCas;
  const withStore = (tls as unknown as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (withStore) return (systemCas = [...new Set([...withStore('default'), ...withStore('system')])]);
  let bundle: string[] = [];
  for (const file of ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem']) {
    try {
      bundle = readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      break;
    } catch {
      // not this distribution's file
    }
  }
  return (systemCas = [...new Set([...tls.rootCertificates, ...bundle])]);
}

/** Parsing a few hundred CAs takes a while: one context per list, made once. */
const contexts = new WeakMap<string[], tls.SecureContext>();
function contextFor(cas: string[]): tls.SecureContext {
  let context = contexts.get(cas);
  if (!context) {
    context = tls.createSecureContext({ ca: cas });
    contexts.set(cas, context);
  }
  return context;
}

export type Handshake =
  | { ok: true; chain: X509Certificate[]; authorized: boolean; authorizationError: string | null; ms: number }
  | { ok: false; error: string; ms: number };

/** One TLS handshake to address:port with `name` as SNI, verified against `cas` but never refused. */
export function handshake(address: string, port: number, name: string, cas: string[], timeoutMs: number): Promise<Handshake> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = tls.connect({ host: address, port, servername: name, rejectUnauthorized: false, secureContext: contextFor(cas), ALPNProtocols: ['http/1.1'] });
    const done = (outcome: Handshake) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, error: `no TLS answer within ${secondsText(timeoutMs)} s`, ms: Date.now() - started }), timeoutMs);
    socket.once('secureConnect', () => {
      const chain: X509Certificate[] = [];
      let peer = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (peer?.raw && !seen.has(peer.fingerprint256)) {
        seen.add(peer.fingerprint256);
        chain.push(new X509Certificate(peer.raw));
        peer = peer.issuerCertificate;
      }
      const error = socket.authorizationError;
      done({ ok: true, chain, authorized: socket.authorized, authorizationError: error ? String((error as Error & { code?: string }).code ?? error) : null, ms: Date.now() - started });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, error: error.code ?? error.message, ms: Date.now() - started }));
  });
}

/** The DNS names of a certificate's SAN. */
export function sanNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}

const dateText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** What a verification error means, in words. */
function untrustedWords(code: string | null): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'it is self-signed';
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return 'it chains to a CA this machine does not trust';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return 'its chain is incomplete (the intermediate certificate is missing)';
    case 'CERT_HAS_EXPIRED':
      return 'it has expired';
    case 'CERT_NOT_YET_VALID':
      return 'it is not valid yet';
    default:
      return code ? `verification says ${code}` : 'it could not be verified';
  }
}

interface Served {
  name: string;
  asked: string;
  outcome: Handshake;
}

function namesCheck(route: Route, served: Served[], routeCert: RouteCertificate | undefined, passthrough: boolean): DoctorCheck {
  const base = { id: 'certificate:names', step: 'certificate' as const, title: passthrough ? "The upstream's certificate covers the route's names (TLS is passed through)" : "The certificate covers the route's names", durationMs: Math.max(0, ...served.map((entry) => entry.outcome.ms)) };
  const broken = served.find((entry) => !entry.outcome.ok);
  if (broken && !broken.outcome.ok) {
    return {
      ...base,
      state: 'fail',
      says: `The TLS handshake for ${broken.asked} failed: ${broken.outcome.error}.`,
      fix: passthrough ? 'Check that the upstream speaks TLS on its port (TLS is passed through to it).' : 'Restart the proxy; if it keeps failing, look at the Certificates page for this route.',
    };
  }
  const wrong = served.filter((entry) => entry.outcome.ok && entry.outcome.chain[0]?.checkHost(entry.asked) === undefined);
  if (wrong.length === 0) {
    const leaf = served[0]?.outcome.ok ? served[0].outcome.chain[0] : undefined;
    return { ...base, state: 'pass', says: `The certificate served for ${listText(served.map((entry) => entry.asked))} covers ${served.length > 1 ? 'them' : 'it'}${leaf ? ` (it is for ${listText(sanNames(leaf).slice(0, 4))})` : ''}.`, fix: null };
  }
  const first = wrong[0]!;
  const leaf = first.outcome.ok ? first.outcome.chain[0] : undefined;
  const isFor = leaf ? listText(sanNames(leaf).slice(0, 4)) || leaf.subject.replace(/\n/g, ', ') : 'other names';
  if (!passthrough && routeCert?.problem) {
    return {
      ...base,
      state: 'fail',
      says: `Gatehouse has no usable certificate for ${first.asked}: ${routeCert.problem.message} It serves its fallback certificate instead (for ${isFor}), so browsers refuse the connection.`,
      fix: routeCert.problem.fix ?? 'Open the Certificates page for this route and follow what it says.',
    };
  }
  return {
    ...base,
    state: 'fail',
    says: `The certificate served for ${first.asked} is for ${isFor}, not ${first.asked}, so browsers refuse the connection.`,
    fix: passthrough
      ? `Give the service behind the route a certificate that includes ${first.asked} (TLS is passed through, so its own certificate is what browsers see).`
      : route.tls.mode === 'custom'
        ? `Import a certificate that includes ${first.asked} on the Certificates page and choose it for this route.`
        : 'Open the Certificates page: the route\'s certificate may still be pending, or have failed.',
  };
}

function datesCheck(route: Route, served: Served[], routeCert: RouteCertificate | undefined, passthrough: boolean, now: number): DoctorCheck {
  const base = { id: 'certificate:dates', step: 'certificate' as const, title: 'The certificate is within its dates and not about to expire', durationMs: 0 };
  const covering = served.find((entry) => entry.outcome.ok && entry.outcome.chain[0]?.checkHost(entry.asked) !== undefined);
  const leaf = covering?.outcome.ok ? covering.outcome.chain[0] : undefined;
  // The fallback is served when the route's own certificate cannot be (expired): judge the route's.
  const from = leaf ? Date.parse(leaf.validFrom) : routeCert?.notBefore ? Date.parse(routeCert.notBefore) : null;
  const to = leaf ? Date.parse(leaf.validTo) : routeCert?.notAfter ? Date.parse(routeCert.notAfter) : null;
  if (from === null || to === null) return { ...base, state: 'skipped', says: 'No certificate for the route\'s names is served, so its dates cannot be judged.', fix: null };
  const whose = leaf ? 'The certificate' : "The route's certificate (not served)";
  const renewFix = passthrough
    ? 'Renew the certificate on the service behind the route (TLS is passed through to it).'
    : route.tls.mode === 'custom'
      ? 'Import the renewed certificate on the Certificates page and choose it for this route.'
      : route.tls.mode === 'local'
        ? 'Gatehouse renews local certificates by itself; press "Renew" for this route on the Certificates page.'
        : 'Open the Certificates page: it shows the last renewal attempt and why it failed.';
  if (now < from) return { ...base, state: 'fail', says: `${whose} is not valid until ${dateText(from)}: this machine's clock may be wrong.`, fix: "Check this machine's date and time." };
  if (now >= to) return { ...base, state: 'fail', says: `${whose} expired on ${dateText(to)}.`, fix: renewFix };
  const days = Math.floor((to - now) / DAY_MS);
  if (to - now < EXPIRY_WARNING_DAYS * DAY_MS) {
    return { ...base, state: 'warn', says: `${whose} expires on ${dateText(to)}, in ${days === 0 ? 'less than a day' : days === 1 ? '1 day' : `${days} days`}.`, fix: renewFix };
  }
  return { ...base, state: 'pass', says: `${whose} is valid until ${dateText(to)} (${days} days).`, fix: null };
}

/** Whether `leaf` was signed by the CA in `caPem`. */
function issuedBy(leaf: X509Certificate, caPem: string): boolean {
  try {
    const ca = new X509Certificate(caPem);
    return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
  } catch {
    return false;
  }
}

async function trustCheck(served: Served[], passthrough: boolean, deps: DoctorCertificateDeps, timeoutMs: number): Promise<DoctorCheck> {
  const started = Date.now();
  const base = { id: 'certificate:trust', step: 'certificate' as const, title: 'This machine trusts the certificate' };
  const covering = served.find((entry) => entry.outcome.ok && entry.outcome.chain[0]?.checkHost(entry.asked) !== undefined);
  if (!covering || !covering.outcome.ok) return { ...base, state: 'skipped', says: 'The certificate served is not the route\'s, so whether it is trusted does not matter yet.', fix: null, durationMs: 0 };
  const { chain, authorized, authorizationError } = covering.outcome;
  const leaf = chain[0]!;
  if (!passthrough && issuedBy(leaf, deps.localCaPem())) {
    const plan = await within<TrustPlan | null>(deps.trustPlan().catch(() => null), Math.max(0, timeoutMs - (Date.now() - started)), () => null);
    const stores = plan?.installed ?? [];
    const trustedIn = stores.filter((store) => store.trusted === true && !store.store.includes('earlier Gatehouse CA')).map((store) => store.store);
    const durationMs = Date.now() - started;
    const onboarding = 'On every other device (phones, laptops), open the onboarding page (/ca on the proxy\'s address) and install the CA there too.';
    if (authorized || trustedIn.length > 0) {
      const where = trustedIn.length > 0 ? ` (installed in: ${listText(trustedIn)})` : ' (in the system\'s CA store)';
      return { ...base, state: 'pass', says: `The certificate comes from Gatehouse's local CA, which this machine trusts${where}.`, fix: onboarding, durationMs };
    }
    return {
      ...base,
      state: 'warn',
      says: `The certificate comes from Gatehouse's local CA, which is not installed in this machine's trust store${plan ? '' : ' (its state could not be read in time)'}, so browsers here warn about it.`,
      fix: `On the Certificates page, choose "Trust on this machine". ${onboarding}`,
      durationMs,
    };
  }
  const durationMs = Date.now() - started;
  if (authorized) {
    const top = chain.at(-1)!;
    return { ...base, state: 'pass', says: `It chains to ${top.issuer.split('\n').find((part) => part.startsWith('CN='))?.slice(3) ?? 'a CA'}, which this machine's CA store trusts.`, fix: null, durationMs };
  }
  return {
    ...base,
    state: 'warn',
    says: `This machine does not trust ${passthrough ? "the upstream's certificate" : 'the certificate'}: ${untrustedWords(authorizationError)}, so browsers warn about it.`,
    fix: passthrough
      ? 'Give the service behind the route a certificate from a CA your devices trust (TLS is passed through, so its certificate is what they see), or install its CA on each device.'
      : 'Import the certificate together with its chain (the intermediate certificates), or install its CA on the devices that use the route.',
    durationMs,
  };
}

/** The certificate step; `target` is the HTTPS listener the port step reached. */
export async function certificateChecks(route: Route, target: { address: string; port: number }, deps: DoctorCertificateDeps): Promise<DoctorCheck[]> {
  const timeoutMs = deps.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const now = (deps.now ?? Date.now)();
  const passthrough = route.tls.mode === 'passthrough';
  const cas = (deps.trustedCas ?? systemTrustedCas)();
  // Read while the handshakes run: the trust stores' status commands take a moment.
  const started = Date.now();
  const plan = passthrough ? Promise.resolve(null) : deps.trustPlan().catch(() => null);
  const withPlan: DoctorCertificateDeps = { ...deps, trustPlan: () => plan.then((value) => value ?? Promise.reject(new Error('no plan'))) };
  const names = route.names.slice(0, MAX_NAMES).map((name) => ({ name, asked: askedName(name) }));
  const served: Served[] = await Promise.all(names.map(async (entry) => ({ ...entry, outcome: await handshake(target.address, target.port, entry.asked, cas, timeoutMs) })));
  const routeCert = passthrough ? undefined : deps.routeCertificate(route.id);
  const checks: DoctorCheck[] = [namesCheck(route, served, routeCert, passthrough), datesCheck(route, served, routeCert, passthrough, now), await trustCheck(served, passthrough, withPlan, Math.max(200, timeoutMs - (Date.now() - started)))];
  return checks;
}
