// The fake Gatehouse's route doctor: a report shaped like the real one for the route asked about,
// with the failures people meet most: the first name does not resolve through the router's DNS, the
// local CA is not trusted on this machine yet (a warning), the rest passes. A route without HTTPS gets
// its certificate step skipped, as the real doctor does.
import { ApiError } from '../../shared/api.js';
import type { DoctorCheck, DoctorReport } from '../../shared/insight.js';
import type { Route } from '../../shared/model.js';

export class FakeDoctor {
  /** The next run fails with this (the error notice), once. */
  failNext: ApiError | null = null;
  /** Milliseconds each run takes (screenshots of the running state set it high). */
  delayMs = 0;

  async run(route: Route | undefined, visitor: string | undefined): Promise<DoctorReport> {
    if (!route) throw new ApiError('not_found', 'There is no route with that id; it may have been removed.');
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    const name = route.names.find((candidate) => !candidate.startsWith('*.')) ?? route.names[0]!;
    const upstream = route.upstreams[0]?.url ?? 'http://10.33.0.4:8096';
    const where = upstream.replace(/^https?:\/\//, '');
    const judged = visitor ?? '203.0.113.10';
    const checks: DoctorCheck[] = [
      {
        id: `dns:${name}:system`,
        step: 'dns',
        title: `This machine resolves ${name}`,
        state: 'fail',
        says: `This machine's resolver sends ${name} to 10.33.0.50, which is not this machine (this machine is 10.33.0.2): requests go to another device.`,
        fix: `Change the record for ${name} to 10.33.0.2: in your router's DNS settings, the Pi-hole's Local DNS records (or AdGuard Home's DNS rewrites), or the hosts file of the devices that use it.`,
        durationMs: 12,
      },
      { id: 'port:http', step: 'port', title: "The HTTP port answers on this machine's LAN address (10.33.0.2:80)", state: 'pass', says: 'The proxy answered on 10.33.0.2:80 in 1 ms.', fix: null, durationMs: 1 },
    ];
    if (route.tls.mode !== 'none') {
      checks.push(
        { id: 'port:https', step: 'port', title: "The HTTPS port answers on this machine's LAN address (10.33.0.2:443)", state: 'pass', says: 'The proxy answered on 10.33.0.2:443 in 1 ms.', fix: null, durationMs: 1 },
        { id: 'certificate:names', step: 'certificate', title: "The certificate covers the route's names", state: 'pass', says: `The certificate served for ${name} covers it (it is for ${route.names.slice(0, 3).join(', ')}).`, fix: null, durationMs: 9 },
        { id: 'certificate:dates', step: 'certificate', title: 'The certificate is within its dates and not about to expire', state: 'pass', says: 'The certificate is valid until 2027-12-01 (360 days).', fix: null, durationMs: 0 },
        {
          id: 'certificate:trust',
          step: 'certificate',
          title: 'This machine trusts the certificate',
          state: 'warn',
          says: "The certificate comes from Gatehouse's local CA, which is not installed in this machine's trust store, so browsers here warn about it.",
          fix: 'On the Certificates page, choose "Trust on this machine". On every other device (phones, laptops), open the onboarding page (/ca on the proxy\'s address) and install the CA there too.',
          durationMs: 40,
        },
      );
    } else {
      checks.push({ id: 'certificate:skipped', step: 'certificate', title: 'The certificate served for the names', state: 'skipped', says: 'The route uses plain HTTP only (no certificate): nothing to check.', fix: null, durationMs: 0 });
    }
    checks.push({ id: `upstream:${upstream}`, step: 'upstream', title: `${where} answers`, state: 'pass', says: 'It answers: HTTP 200 in 6 ms.', fix: null, durationMs: 6 });
    if (route.app) {
      checks.push({ id: 'upstream:app', step: 'upstream', title: `It is ${route.app}`, state: 'pass', says: `${where} answers like ${route.app} (GET /System/Info/Public: ProductName "Jellyfin Server").`, fix: null, durationMs: 20 });
    }
    checks.push({
      id: 'access:visitor',
      step: 'access',
      title: visitor ? `${visitor} would be let in` : 'Who gets in from the internet',
      state: 'pass',
      says: `A visitor from the internet (judged as ${judged}) would be refused: ${judged} is not on this network, and the route is open to this network only. That is what the route's access rules ask; run the doctor with a visitor's address to judge someone else.`,
      fix: null,
      durationMs: 1,
    });
    return { routeId: route.id, time: new Date().toISOString(), durationMs: 1840, visitor: judged, checks, verdict: 'broken', summary: checks[0]!.says };
  }
}
