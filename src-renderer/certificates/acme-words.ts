// How Let's Encrypt (ACME) things read in words, in one place: the route form, the Certificates page
// and its DNS provider test say the same thing about the same check, challenge or renewal.
import type { AcmeChallenge, AcmeRenewal, DnsProviderKind, PreflightReport, PreflightState } from '../../shared/acme.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How far from now a moment shows its year too, ms (300 days): a 5-year certificate's renewal is not "6 Apr". */
const YEAR_SHOWN_BEYOND_MS = 300 * DAY;

/** "13 Jan 04:12", in the user's time zone; "6 Apr 2030 19:21" when it is far from `now`. */
export function momentLabel(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  const year = Math.abs(date.getTime() - now.getTime()) > YEAR_SHOWN_BEYOND_MS ? ` ${date.getFullYear()}` : '';
  return `${date.getDate()} ${MONTHS[date.getMonth()]}${year} ${time}`;
}

/** "in 3 days", "in 5 hours", "now", "2 days ago". */
export function relativeLabel(iso: string, now: Date): string {
  const diff = new Date(iso).getTime() - now.getTime();
  const size = Math.abs(diff);
  if (size < 60_000) return 'now';
  const [count, unit] = size >= DAY ? [Math.round(size / DAY), 'day'] : size >= HOUR ? [Math.round(size / HOUR), 'hour'] : [Math.round(size / 60_000), 'minute'];
  const amount = `${count} ${unit}${count === 1 ? '' : 's'}`;
  return diff > 0 ? `in ${amount}` : `${amount} ago`;
}

/** "Next renewal: 13 Jan 04:12 — in the window Let's Encrypt suggested", or why there is no date. */
export function renewalText(renewal: AcmeRenewal | null, now: Date = new Date()): string {
  if (!renewal) return 'Next renewal: not planned yet';
  const reason = renewal.reason.replace(/\.$/, '');
  const lowered = reason.charAt(0).toLowerCase() + reason.slice(1);
  if (renewal.at === null) return `Next renewal: now — ${lowered}`;
  return `Next renewal: ${momentLabel(renewal.at, now)} — ${lowered}`;
}

/** "Let's Encrypt" when the name says it all, else "Home (Let's Encrypt staging)"; with the email for the route form. */
export function accountName(account: { label: string; directoryLabel: string; email?: string }, withEmail = false): string {
  const parts = [account.label === account.directoryLabel ? '' : account.directoryLabel, withEmail ? (account.email ?? '') : ''].filter((part) => part !== '');
  return parts.length === 0 ? account.label : `${account.label} (${parts.join(', ')})`;
}

export const challengeLabels: Record<AcmeChallenge, string> = {
  'http-01': 'HTTP (port 80 must reach this machine)',
  'dns-01': 'DNS (wildcards, names only on your LAN)',
};

/** Short, for lists: "HTTP challenge". */
export const challengeShort: Record<AcmeChallenge, string> = { 'http-01': 'HTTP challenge', 'dns-01': 'DNS challenge' };

export const keyTypeLabels = { 'ecdsa-p256': 'ECDSA P-256 (recommended: smaller and faster)', 'rsa-2048': 'RSA 2048 (for very old clients)' } as const;

export const dnsKindLabels: Record<DnsProviderKind, string> = {
  cloudflare: 'Cloudflare',
  rfc2136: 'RFC 2136 dynamic update (BIND, Knot, PowerDNS, Technitium)',
  'acme-dns': 'acme-dns (CNAME delegation)',
  duckdns: 'DuckDNS',
  exec: 'Your own script',
};

/** Short, for tags. */
export const dnsKindShort: Record<DnsProviderKind, string> = { cloudflare: 'Cloudflare', rfc2136: 'RFC 2136', 'acme-dns': 'acme-dns', duckdns: 'DuckDNS', exec: 'Script' };

/** A check's state in words and a symbol; the word is what counts (colour and symbol only help). */
export const preflightStates: Record<PreflightState, { word: string; symbol: string }> = {
  pass: { word: 'Passed', symbol: '✓' },
  warn: { word: 'Warning', symbol: '!' },
  fail: { word: 'Failed', symbol: '✗' },
  skipped: { word: 'Skipped', symbol: '–' },
};

/** The checklist's summary line: "2 of 5 checks failed: an order would fail the same way". */
export function preflightSummary(report: Pick<PreflightReport, 'ok' | 'checks'>): string {
  const count = (state: PreflightState) => report.checks.filter((check) => check.state === state).length;
  const failed = count('fail');
  const warned = count('warn');
  const total = report.checks.length;
  if (failed > 0) return `${failed} of ${total} checks failed: an order would fail the same way. Fix ${failed === 1 ? 'it' : 'them'} first.`;
  if (warned > 0) return `Ready to order, with ${warned} ${warned === 1 ? 'warning' : 'warnings'} to read.`;
  return `All ${total} checks passed: ready to order.`;
}

/** Where secrets are kept, for the hint under the DNS providers. */
export const secretsStoredText = {
  'os-keystore': "Credentials are encrypted with this computer's keystore and never shown again.",
  'key-file': 'Credentials are encrypted with a key file in the data directory (readable only by Gatehouse) and never shown again.',
} as const;
