// The certificate members of the API: the local CA and its domains, downloads for other devices,
// imported certificates, renewal, and trust on this machine. The certificate service does the work;
// this puts it in the change queue where it touches saved state, and builds the overview the
// Certificates page shows (with the onboarding page's address, which depends on the listener).
import type { ApiHandlers } from '../../../shared/api.js';
import type { Route } from '../../../shared/model.js';
import type { CertificatesOverview, LocalCaSummary, TrustPlan } from '../../../shared/status.js';
import type { CertificateService } from '../certs/certificate-service.js';
import { caDownload } from '../certs/onboarding.js';
import { qrCode } from '../certs/qr.js';
import { runTrustSteps, trustPlan, type TrustEnvironment } from '../certs/trust-store.js';

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
  /** Where the onboarding page is served now; empty while the proxy is stopped. */
  onboardingUrls: () => string[];
  /** Tells subscribers the overview changed (after a change made here). */
  announce: () => void;
  /** Tests run the trust steps against their own directories. */
  trustEnvironment?: TrustEnvironment;
}

export function certificatesOverview(deps: Pick<CertificateHandlerDeps, 'certificates' | 'routes' | 'onboardingUrls'>): CertificatesOverview {
  const { certificates } = deps;
  const urls = deps.onboardingUrls();
  return {
    ca: caSummary(certificates),
    onboarding: { urls, qr: urls[0] ? qrCode(urls[0]) : null },
    routes: certificates.routeCertificates(),
    custom: certificates.customCertificates(deps.routes()),
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

export function certificateHandlers(deps: CertificateHandlerDeps): Pick<ApiHandlers, CertificateMembers> {
  const { certificates, routes, change } = deps;
  const overview = () => certificatesOverview(deps);
  const plan = (): Promise<TrustPlan> => trustPlan({ certPath: certificates.ca.files.certPath, info: certificates.ca.info }, deps.trustEnvironment);
  /** Runs one side of the plan; the plan after it says what is trusted now. */
  const runPlan = async (side: 'install' | 'uninstall') => {
    const steps = await runTrustSteps((await plan())[side]);
    return { steps, plan: await plan() };
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
    trustCa: () => change(() => runPlan('install')),

    untrustCa: () => change(() => runPlan('uninstall')),
  };
}
