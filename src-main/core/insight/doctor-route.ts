// One route's doctor: the five steps in order (DNS, port, certificate, upstream, access), the
// certificate waiting for the port step that found the HTTPS listener. Everything it asks comes in
// through DoctorDeps, so the gateway hands over its live services and tests can hand over theirs.
import type { DoctorReport } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';
import { accessChecks, TYPICAL_INTERNET_VISITOR, type DoctorAccessDeps } from './doctor-access.js';
import { certificateChecks, type DoctorCertificateDeps } from './doctor-certificate.js';
import { dnsChecks, type DoctorDnsDeps } from './doctor-dns.js';
import { portChecks, type DoctorPortDeps, type PortFindings } from './doctor-port.js';
import { upstreamChecks, type DoctorUpstreamDeps } from './doctor-upstream.js';
import { runDoctorSteps, type DoctorStepRun } from './doctor.js';

export interface DoctorDeps {
  dns: DoctorDnsDeps;
  port: DoctorPortDeps;
  certificate: DoctorCertificateDeps;
  upstream: DoctorUpstreamDeps;
  access: DoctorAccessDeps;
  /** Whole-report deadline, ms; default DOCTOR_DEADLINE_MS. */
  deadlineMs?: number;
}

/** Why the certificate step cannot run, from the port step's checks; null when it can. */
export function certificateBlockedBy(route: Route, findings: PortFindings) {
  return (earlier: readonly { id: string; state: string }[]): string | null => {
    if (route.tls.mode === 'none') return 'The route uses plain HTTP only (no certificate): nothing to check.';
    if (earlier.some((check) => check.id === 'port:route')) return 'Skipped: the route is turned off, so the proxy serves no certificate for it.';
    const proxy = earlier.find((check) => check.id === 'port:proxy');
    if (proxy) return 'Skipped: the proxy is not running, so no certificate is served.';
    const https = earlier.find((check) => check.id === 'port:https');
    if (!https || https.state === 'fail' || !findings.https) return 'Skipped: the HTTPS port did not answer, so no certificate could be fetched.';
    return null;
  };
}

/** Runs the doctor for `route`; `visitor` undefined judges a typical internet address. */
export function runRouteDoctor(route: Route, visitor: string | undefined, deps: DoctorDeps): Promise<DoctorReport> {
  const findings: PortFindings = { https: null };
  const judged = visitor ?? TYPICAL_INTERNET_VISITOR;
  const runs: DoctorStepRun[] = [
    { step: 'dns', title: "The route's names resolve to this machine", run: () => dnsChecks(route, deps.dns) },
    { step: 'port', title: 'The proxy answers on its ports', run: () => portChecks(route, deps.port, findings) },
    {
      step: 'certificate',
      title: route.tls.mode === 'passthrough' ? "The upstream's certificate (TLS is passed through)" : 'The certificate served for the names',
      after: ['port'],
      blockedBy: certificateBlockedBy(route, findings),
      run: () => certificateChecks(route, findings.https!, deps.certificate),
    },
    { step: 'upstream', title: 'The upstreams answer', run: () => upstreamChecks(route, deps.upstream) },
    { step: 'access', title: 'The access rules let the visitor in', run: () => accessChecks(route, judged, visitor === undefined, deps.access) },
  ];
  return runDoctorSteps(runs, { routeId: route.id, visitor: judged, ...(deps.deadlineMs ? { deadlineMs: deps.deadlineMs } : {}) });
}
