// The certificate members of the API: the local CA and its domains, downloads for other devices,
// imported certificates, renewal, and trust on this machine. The certificate service does the work;
// this puts it in the change queue where it touches saved state, and builds the overview the
// Certificates page shows (with the onboarding page's address, which depends on the listener).
import { join } from 'node:path';
import { KNOWN_ACME_DIRECTORIES, type AcmeOverview } from '../../../shared/acme.js';
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { Route } from '../../../shared/model.js';
import type { CertificatesOverview, LocalCaSummary, Onboarding, TrustPlan } from '../../../shared/status.js';
import type { CertificateService } from '../certs/certificate-service.js';
import { caDownload } from '../certs/onboarding.js';
import { qrCode } from '../certs/qr.js';
import { runTrustPlan, trustPlan, type TrustEnvironment } from '../certs/trust-store.js';

type CertificateMembers =
  | 'getCertificates'
  | 'setCaDomains'
  | 'downloadCa'
  | 'importCertificate'
  | 'removeCertificate'
  | 'renewCertificate'
  | 'getTrustPlan'
  | 'trustCa'
  | 'untrustCa';

export interface CertificateHandlerDeps {
  certificates: CertificateService;
  routes: () => readonly Route[];
  /** Runs a change after the ones before it (the gateway's queue). */
  change: <T>(task: () => Promise<T>) => Promise<T>;
  /** Where other devices find the onboarding page now (none while the proxy is stopped), or why they cannot. */
  onboardingReach: () => Omit<Onboarding, 'qr'>;
  /** Tells subscribers the overview changed (after a change made here). */
  announce: () => void;
  /** Tests run the trust steps against their own directories. */
  trustEnvironment?: TrustEnvironment;
  /** The ACME accounts and DNS providers (gateway/acme-handlers.ts acmeOverview). Default: none. */
  acme?: () => AcmeOverview;
}

/**
 * What a certificates folder Gatehouse cannot use (a damaged CA file, a key that is not the CA's)
 * means for the person starting it: the problem and what to do, as `serve` and the desktop's
 * start-up dialog print them. File-system errors (EACCES, ENOSPC) pass as they are: they already
 * say which file, and the command line prints them in one line.
 */
export function certificatesUnusable(error: unknown, dataDir: string): unknown {
  if (error instanceof ApiError || !(error instanceof Error) || typeof (error as NodeJS.ErrnoException).code === 'string') return error;
  const dir = join(dataDir, 'certs');
  return new ApiError('conflict', error.message, {
    fix:
      `Restore ${dir} from a backup, or move it aside (mv ${dir} ${dir}.broken) and start Gatehouse again: ` +
      'it then creates a new local CA and new route certificates, and every device that trusted the old CA must be given the new one. ' +
      'Your routes and settings are not touched.',
  });
}

export function certificatesOverview(deps: Pick<CertificateHandlerDeps, 'certificates' | 'routes' | 'onboardingReach' | 'acme'>): CertificatesOverview {
  const { certificates } = deps;
  const { urls, problem } = deps.onboardingReach();
  return {
    ca: caSummary(certificates),
    onboarding: { urls, qr: urls[0] ? qrCode(urls[0]) : null, problem },
    routes: certificates.routeCertificates(),
    custom: certificates.customCertificates(deps.routes()),
    acme: deps.acme?.() ?? { directories: KNOWN_ACME_DIRECTORIES.map((directory) => ({ ...directory })), accounts: [], dnsProviders: [], secretsStoredIn: 'key-file' },
  };
}

function caSummary(certificates: CertificateService): LocalCaSummary {
  const info = certificates.ca.info;
  return {
    subject: info.subject,
    fingerprintSha256: info.fingerprintSha256,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    permittedDomains: [...info.permittedDomains],
    keyType: info.keyType,
    certificatePem: info.certificatePem,
  };
}

/**
 * What will not work over HTTPS if `routes` are saved as they are (an import from another machine:
 * its custom certificates are not here, its names may lie outside this CA's domains), one line per
 * route with what to do. The same check addRoute makes, reported instead of refused.
 */
export function httpsWarnings(certificates: Pick<CertificateService, 'checkRoute'>, routes: readonly Route[]): string[] {
  return routes.flatMap((route) => {
    try {
      certificates.checkRoute(route);
      return [];
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const problems = error.details.issues?.map((issue) => issue.message) ?? [error.message];
      return [`${route.title ?? route.names[0] ?? route.id}: ${problems.join('; ')}`];
    }
  });
}

export function certificateHandlers(deps: CertificateHandlerDeps): Pick<ApiHandlers, CertificateMembers> {
  const { certificates, routes, change } = deps;
  const overview = () => certificatesOverview(deps);
  const ca = () => ({ info: certificates.ca.info });
  const plan = (): Promise<TrustPlan> => trustPlan(ca(), deps.trustEnvironment);
  /**
   * Runs one side of the plan, for the CA the person saw the commands for; the plan after it says
   * what is trusted now.
   */
  const runPlan = async (side: 'install' | 'uninstall', seenFingerprint: string) => {
    if (seenFingerprint !== certificates.ca.info.fingerprintSha256) {
      throw new ApiError('conflict', 'The local CA was replaced after these commands were shown, so they are not the ones that would run.', {
        fix: 'Look at the new commands for the current CA, and agree again if they are right.',
      });
    }
    const current = await plan();
    if (!current.supported) throw new ApiError('conflict', current.problem?.message ?? 'This machine cannot trust the CA from here.', current.problem?.fix ? { fix: current.problem.fix } : {});
    return runTrustPlan(ca(), side, deps.trustEnvironment);
  };
  /** A change that alters the overview: queued, then announced at once (the service's own notices may be throttled). */
  const changing = <T>(task: () => Promise<T>) =>
    change(async () => {
      const result = await task();
      deps.announce();
      return result;
    });

  return {
    getCertificates: async () => overview(),

    setCaDomains: ({ domains }) =>
      changing(async () => {
        await certificates.setCaDomains(domains, routes());
        return overview();
      }),

    downloadCa: async ({ format }) => caDownload(certificates.ca.info, format),

    importCertificate: (input) => changing(() => certificates.importCertificate(input)),

    removeCertificate: ({ id }) => changing(async () => ({ removed: await certificates.removeCertificate(id, routes()) })),

    renewCertificate: ({ routeId }) => changing(() => certificates.renew(routeId, routes())),

    getTrustPlan: () => plan(),

    // Queued: two installs at once would race on the same store files.
    trustCa: ({ caFingerprintSha256 }) => change(() => runPlan('install', caFingerprintSha256)),

    untrustCa: ({ caFingerprintSha256 }) => change(() => runPlan('uninstall', caFingerprintSha256)),
  };
}
