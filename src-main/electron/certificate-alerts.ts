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
// - ACME certificates of 45 days or less are inside the `expiring` days before their renewal is even
//   due, so an ACME one is announced only when its renewal failed (the service then reports it
//   `expiring` however far off the expiry, with the problem's sentence; one notification per
//   failure streak, since the key holds until a renewal succeeds and brings a new notAfter), or when
//   the renewal is over an hour late without a failure. A success after an announced failure says
//   so once, so the user knows there is nothing left to do.
import type { AcmeProblem } from '../../shared/acme.js';
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

/** The problem of the route's last ACME attempt when it failed (the streak goes on until one succeeds); null otherwise. */
function acmeFailure(certificate: RouteCertificate): AcmeProblem | 'unknown' | null {
  const attempt = certificate.acme?.lastAttempt;
  return attempt && !attempt.ok ? (attempt.problem ?? 'unknown') : null;
}

/** Renewal planned this long ago and still not done (no failure either) counts as stuck. */
const ACME_LATE_MS = 60 * 60 * 1000;

/** Whether an ACME certificate's trouble is news: a failed attempt, expiry, or a renewal well overdue. */
function acmeNeedsAttention(certificate: RouteCertificate, now: number): boolean {
  if (certificate.state !== 'expiring' || acmeFailure(certificate)) return true;
  const at = certificate.acme?.renewal?.at;
  return !certificate.acme?.ordering && (at === null || at === undefined || Date.parse(at) < now - ACME_LATE_MS);
}

function whenExpires(notAfter: string | null, now: number): string {
  const days = daysLeft(notAfter, now);
  return days === null ? 'soon' : days <= 1 ? 'within a day' : `in ${days} days`;
}

/** The ACME sentences: the problem's own plain sentence and fix, never its raw details. */
function describeAcme(certificate: RouteCertificate, label: string, now: number): string {
  const failure = acmeFailure(certificate);
  const cause = failure === null ? '' : failure === 'unknown' ? ' Open the Certificates page to see why.' : ` ${failure.message}${failure.fix ? ` ${failure.fix}` : ''}`;
  switch (certificate.state) {
    case 'expiring':
      return failure
        ? `Gatehouse could not renew the certificate of ${label}.${cause} The current one is still served and expires ${whenExpires(certificate.notAfter, now)}.`
        : `The certificate of ${label} expires ${whenExpires(certificate.notAfter, now)} and its renewal is late; open the Certificates page.`;
    case 'expired':
      return `The certificate of ${label} has expired; browsers refuse it.${cause || ' Renew it on the Certificates page.'}`;
    default:
      return failure && failure !== 'unknown' ? `${label}: ${failure.message}${failure.fix ? ` ${failure.fix}` : ''}` : `The certificate of ${label} could not be issued.${cause}`;
  }
}

function titleOf(certificate: RouteCertificate, label: string): string {
  if (certificate.state === 'expired') return `${label}: certificate expired`;
  if (certificate.state === 'error') return `${label}: certificate problem`;
  return certificate.mode === 'acme' && acmeFailure(certificate) ? `${label}: certificate not renewed` : `${label}: certificate expiring`;
}

function describe(certificate: RouteCertificate, label: string, now: number): string {
  if (certificate.mode === 'acme') return describeAcme(certificate, label, now);
  switch (certificate.state) {
    case 'expiring': {
      const when = whenExpires(certificate.notAfter, now);
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
  /** ACME routes whose failed attempt was announced (failures so far, whether a certificate was held): a success then says so. */
  #failing = new Map<string, { failures: number; held: boolean }>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Takes every `certificates` report and the current routes; returns the notification it calls for, or null. */
  update(certificates: readonly RouteCertificate[], routes: readonly Route[]): CertificateAlert | null {
    const now = this.#now();
    const current = new Set<string>();
    const labelOf = (certificate: RouteCertificate) =>
      routeLabel(
        routes.find((candidate) => candidate.id === certificate.routeId),
        certificate.names[0] ?? certificate.routeId,
      );
    const fresh: { routeId: string; title: string; body: string; trouble: boolean }[] = [];
    const failing = new Map<string, { failures: number; held: boolean }>();
    for (const certificate of certificates) {
      const failure = certificate.mode === 'acme' ? acmeFailure(certificate) : null;
      const wasFailing = this.#failing.get(certificate.routeId);
      if (failure) failing.set(certificate.routeId, { failures: Math.max(certificate.acme?.failures ?? 1, 1), held: certificate.notAfter !== null });
      else if (wasFailing !== undefined && certificate.mode === 'acme' && certificate.acme?.lastAttempt?.ok) {
        const label = labelOf(certificate);
        const tries = wasFailing.failures === 1 ? 'a failed attempt' : `${wasFailing.failures} failed attempts`;
        const days = daysLeft(certificate.notAfter, now);
        const done = wasFailing.held ? 'renewed' : 'issued';
        fresh.push({ routeId: certificate.routeId, title: `${label}: certificate ${done}`, body: `Gatehouse ${done} the certificate of ${label} after ${tries}; ${days === null ? 'nothing is left to do' : `it is valid for ${days} more days`}.`, trouble: false });
      } else if (wasFailing !== undefined && certificate.mode === 'acme') failing.set(certificate.routeId, wasFailing);
      if (!isTrouble(certificate.state)) continue;
      if (certificate.mode === 'acme' && !acmeNeedsAttention(certificate, now)) continue;
      const key = `${certificate.routeId}\n${certificate.state}\n${certificate.notAfter ?? ''}`;
      current.add(key);
      if (this.#announced.has(key)) continue;
      const label = labelOf(certificate);
      fresh.push({ routeId: certificate.routeId, title: titleOf(certificate, label), body: describe(certificate, label, now), trouble: true });
    }
    this.#failing = failing;
    this.#announced = new Set([...this.#announced].filter((key) => current.has(key)));
    for (const key of current) this.#announced.add(key);
    if (fresh.length === 0) return null;
    const routeIds = fresh.map((entry) => entry.routeId);
    if (fresh.length === 1) return { title: fresh[0]!.title, body: fresh[0]!.body, routeIds };
    const troubles = fresh.filter((entry) => entry.trouble).length;
    return {
      title: troubles === 0 ? `${fresh.length} certificates are fine again` : troubles === 1 ? '1 certificate needs attention' : `${troubles} certificates need attention`,
      body: fresh.map((entry) => entry.body).join(' '),
      routeIds,
    };
  }
}
