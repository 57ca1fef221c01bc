// How certificates read in words, in one place: the Certificates page, the dashboard and the route
// form say the same thing about the same certificate.
import type { TlsMode } from '../../shared/model.js';
import { RENEWAL_WARNING_DAYS, type CertificateState, type CustomCertificate, type RouteCertificate, type TrustStep } from '../../shared/status.js';

const DAY = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "20 Dec 2027", in the user's time zone; the same in every locale, so nobody misreads 03/04. */
export function dayLabel(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}`;
}

/** Whole days from `now` until `iso`, rounded up (a certificate ending tomorrow morning: 1 day). */
export function daysUntil(iso: string, now: Date): number {
  return Math.max(0, Math.ceil((new Date(iso).getTime() - now.getTime()) / DAY));
}

function days(count: number): string {
  return count === 1 ? '1 day' : `${count} days`;
}

export const modeLabels: Record<TlsMode, string> = { none: 'None', local: 'Local CA', custom: 'Custom', acme: "Let's Encrypt", passthrough: 'Passed through' };

type Stated = Pick<RouteCertificate, 'notAfter' | 'problem'> & { state: CertificateState };

/** The state on the Certificates page: "Valid", "Expiring in 5 days", "Expired", "Being issued", "Error: …". */
export function certificateStateText(cert: Stated, now: Date): string {
  switch (cert.state) {
    case 'none':
      return 'No HTTPS';
    case 'pending':
      return 'Being issued';
    case 'valid':
      return 'Valid';
    case 'expiring':
      return cert.notAfter ? `Expiring in ${days(daysUntil(cert.notAfter, now))}` : 'Expiring soon';
    case 'expired':
      return 'Expired';
    case 'error':
      return `Error: ${cert.problem?.message ?? 'the certificate cannot be used'}`;
  }
}

/**
 * A route certificate's state: as certificateStateText, except that a Let's Encrypt certificate whose
 * renewal failed (Gatehouse marks it expiring however far off its end is) says it is still good and
 * for how long, so a failed renewal of a fresh certificate does not read "Expiring in 80 days".
 */
export function routeCertificateStateText(cert: Stated & Pick<RouteCertificate, 'acme'> & { mode?: TlsMode }, now: Date): string {
  // Gatehouse holds no certificate for it: the service's own reaches the browser unopened.
  if (cert.mode === 'passthrough') return 'Passed through: the service presents its own certificate';
  const renewalFailed = cert.acme?.lastAttempt?.ok === false;
  if (cert.state !== 'expiring' || !renewalFailed || !cert.notAfter) return certificateStateText(cert, now);
  const left = daysUntil(cert.notAfter, now);
  return left > RENEWAL_WARNING_DAYS ? `Valid for ${days(left)} more; the last renewal failed` : `Expiring in ${days(left)}; the last renewal failed`;
}

/** The dashboard's one line: "HTTPS, valid until 20 Dec 2027", "HTTP only", "Certificate expires in 5 days". */
export function routeHttpsText(cert: RouteCertificate | undefined, mode: TlsMode, now: Date): string {
  if (mode === 'none') return 'HTTP only';
  if (mode === 'passthrough') return "HTTPS passed through (the service's own certificate)";
  if (!cert) return 'HTTPS';
  switch (cert.state) {
    case 'none':
      return 'HTTP only';
    case 'pending':
      return 'Certificate being issued';
    case 'valid':
      return cert.notAfter ? `HTTPS, valid until ${dayLabel(cert.notAfter)}` : 'HTTPS';
    case 'expiring':
      return cert.notAfter ? `Certificate expires in ${days(daysUntil(cert.notAfter, now))}` : 'Certificate expires soon';
    case 'expired':
      return 'Certificate expired';
    case 'error':
      return 'Certificate error';
  }
}

/** Whether the route answers on HTTPS with a certificate browsers can use now. */
export function servesHttps(cert: RouteCertificate | undefined): boolean {
  return cert !== undefined && (cert.state === 'valid' || cert.state === 'expiring');
}

/** An imported certificate as the route form's select lists it: "Home (*.home.example, home.example)". */
export function customCertificateLabel(cert: Pick<CustomCertificate, 'label' | 'names'>): string {
  const names = cert.names.join(', ');
  return names && names !== cert.label ? `${cert.label} (${names})` : cert.label;
}

/** Characters a POSIX shell reads as themselves; anything else gets the argument quoted. */
const PLAIN_ARGUMENT = /^[\w@%+=:,./-]+$/;

/**
 * A command as one line a person can read and paste into a shell: arguments with spaces (or other
 * characters a shell would interpret) in single quotes, a quote inside written as '\''.
 */
export function commandLine(command: readonly string[]): string {
  return command.map((argument) => (PLAIN_ARGUMENT.test(argument) ? argument : `'${argument.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** "asks for an administrator password" or not, in words. */
export function adminText(step: Pick<TrustStep, 'needsAdmin'>): string {
  return step.needsAdmin ? 'Asks for an administrator password' : 'No password needed';
}
