// When to tell the user, with a desktop notification, that a route's certificate needs attention.
// Kept free of electron so the decision is tested under node; notifications.ts shows what this returns.
//
// The rule: one notification per certificate and trouble, where trouble is `expiring`, `expired` or
// `error`.
// - Unlike a service going down, trouble already there at launch is announced: an expiring custom
//   certificate is something to act on whenever it is first seen, and nothing else would say so
//   until the browsers start refusing it.
// - "Per certificate" means per route and notAfter: a renewed or re-imported certificate that later
//   nears its own expiry is announced again; the same one is not, however often it is reported.
// - Several routes in trouble in one report make one notification naming them.
// - Local-CA certificates renew long before `expiring`, so for them this fires only when renewal
//   keeps failing: exactly when the user has to look.
import type { Route } from '../../shared/model.js';
import type { CertificateState, RouteCertificate } from '../../shared/status.js';
import { routeLabel } from './down-alerts.js';

export interface CertificateAlert {
  title: string;
  body: string;
  routeIds: string[];
}

type Trouble = Extract<CertificateState, 'expiring' | 'expired' | 'error'>;
const TROUBLE: readonly CertificateState[] = ['expiring', 'expired', 'error'];

function isTrouble(state: CertificateState): state is Trouble {
  return TROUBLE.includes(state);
}

function daysLeft(notAfter: string | null, now: number): number | null {
  if (!notAfter) return null;
  return Math.max(0, Math.ceil((Date.parse(notAfter) - now) / 86_400_000));
}

function describe(certificate: RouteCertificate, label: string, now: number): string {
  switch (certificate.state) {
    case 'expiring': {
      const days = daysLeft(certificate.notAfter, now);
      const when = days === null ? 'soon' : days <= 1 ? 'within a day' : `in ${days} days`;
      const fix = certificate.mode === 'custom' ? ' Import a renewed certificate on the Certificates page.' : ' Gatehouse could not renew it; open the Certificates page.';
      return `The certificate of ${label} expires ${when}.${fix}`;
    }
    case 'expired':
      return `The certificate of ${label} has expired; browsers refuse it.${certificate.mode === 'custom' ? ' Import a renewed certificate.' : ''}`;
    default:
      return certificate.problem ? `${label}: ${certificate.problem.message}${certificate.problem.fix ? ` ${certificate.problem.fix}` : ''}` : `The certificate of ${label} cannot be used.`;
  }
}

export class CertificateAlerts {
  readonly #now: () => number;
  /** Keys (route, state, notAfter) already announced; forgotten when the trouble ends. */
  #announced = new Set<string>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Takes every `certificates` report and the current routes; returns the notification it calls for, or null. */
  update(certificates: readonly RouteCertificate[], routes: readonly Route[]): CertificateAlert | null {
    const now = this.#now();
    const current = new Set<string>();
    const fresh: { certificate: RouteCertificate; label: string }[] = [];
    for (const certificate of certificates) {
      if (!isTrouble(certificate.state)) continue;
      const key = `${certificate.routeId}\n${certificate.state}\n${certificate.notAfter ?? ''}`;
      current.add(key);
      if (this.#announced.has(key)) continue;
      const route = routes.find((candidate) => candidate.id === certificate.routeId);
      fresh.push({ certificate, label: routeLabel(route, certificate.names[0] ?? certificate.routeId) });
    }
    this.#announced = new Set([...this.#announced].filter((key) => current.has(key)));
    for (const key of current) this.#announced.add(key);
    if (fresh.length === 0) return null;
    const routeIds = fresh.map(({ certificate }) => certificate.routeId);
    if (fresh.length === 1) {
      const [{ certificate, label }] = fresh as [(typeof fresh)[number]];
      const title = certificate.state === 'expiring' ? `${label}: certificate expiring` : certificate.state === 'expired' ? `${label}: certificate expired` : `${label}: certificate problem`;
      return { title, body: describe(certificate, label, now), routeIds };
    }
    return {
      title: `${fresh.length} certificates need attention`,
      body: fresh.map(({ certificate, label }) => describe(certificate, label, now)).join(' '),
      routeIds,
    };
  }
}
