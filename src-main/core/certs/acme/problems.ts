// Every way an order can fail, turned into one sentence with its fix (shared/acme.ts AcmeProblem),
// keeping the CA's problem document or the network error behind "details". What the CA said comes
// from three places, best first: the records captureAcmeExchange attached to the error (the whole
// problem document with its type, subproblems and headers), a problem document passed directly (a
// challenge's `error`), and, as a fallback, the error's text (acme-client keeps only the `detail`).
// docs/acme-errors.md lists each class with its usual causes.
import { KNOWN_ACME_DIRECTORIES, type AcmeFailure, type AcmeProblem } from '../../../../shared/acme.js';
import { AcmeCaError } from './ca-requests.js';
import { DnsProviderError } from './dns/errors.js';
import { exchangeRecordsOf, problemInBody, type AcmeExchangeRecord } from './problem-capture.js';

export interface FailureContext {
  /** The names being ordered. */
  names: readonly string[];
  challenge: 'http-01' | 'dns-01';
  directoryUrl: string;
  /** What to call the CA in sentences. Default: the known directory's name, else "the CA at <host>". */
  caName?: string;
  /** The DNS provider's label, for its failures. Default: "the DNS provider". */
  dnsProviderLabel?: string;
  /** Now, for retryAt from a relative Retry-After. Default: the clock. */
  now?: Date;
}

const ACME_ERROR = 'urn:ietf:params:acme:error:';
const NETWORK_CODES = /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|EPIPE|ERR_TLS_CERT_ALTNAME_INVALID|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_SSL_\w+|EPROTO)$/;
// The last alternative is what acme-client's axios interceptor throws after a network error's retries.
const NETWORK_TEXT = /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|self[- ]signed certificate|unable to verify the first certificate|certificate has expired|socket hang up)\b|Attempting to read ACME directory|^Cannot read properties of undefined \(reading 'config'\)$/i;

interface Found {
  problem: Record<string, unknown> | null;
  exchange: AcmeExchangeRecord | null;
  text: string;
  networkCode: string | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (isObject(error) && typeof error.detail === 'string') return error.detail;
  return typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
}

/** The recorded answer that produced `error`: the one whose detail is its message, else the last problem, else the last network failure. */
function findAnswer(error: unknown): Found {
  const text = errorText(error);
  if (error instanceof AcmeCaError) {
    // The order's own requests (ca-requests.ts) keep the problem document; the capture adds the Link header.
    const record = exchangeRecordsOf(error).filter((entry) => entry.problem !== null).at(-1) ?? null;
    const exchange: AcmeExchangeRecord = {
      url: record?.url ?? '',
      method: record?.method ?? 'POST',
      status: error.status === 0 ? 200 : error.status,
      problem: error.problem,
      retryAfter: error.retryAfter ?? record?.retryAfter ?? null,
      link: record?.link ?? null,
      networkCode: null,
      networkMessage: null,
    };
    return { problem: error.problem, exchange, text: error.problem.detail ?? text, networkCode: null };
  }
  const direct = isObject(error) && !(error instanceof Error) ? problemInBody(error) : null;
  if (direct) return { problem: direct, exchange: null, text, networkCode: null };
  // badNonce is retried by acme-client itself: never the answer that ended the call.
  const records = exchangeRecordsOf(error).filter((entry) => entry.problem?.type !== `${ACME_ERROR}badNonce`);
  const matching = records.filter((entry) => entry.problem !== null && String(entry.problem.detail ?? '').replace(/\n/g, '') === text).at(-1);
  const last = records.at(-1);
  const chosen = matching ?? (last?.problem ? last : null);
  if (chosen) return { problem: chosen.problem, exchange: chosen, text, networkCode: null };
  const network = last && last.status === null ? last : null;
  const ownCode = isObject(error) && typeof error.code === 'string' ? error.code : null;
  const causeCode = error instanceof Error && isObject(error.cause) && typeof error.cause.code === 'string' ? error.cause.code : null;
  return { problem: null, exchange: network ?? last ?? null, text, networkCode: network?.networkCode ?? ownCode ?? causeCode };
}

/** What sentences call the CA of `directoryUrl`: "Let's Encrypt", or "the CA at ca.lan:9000". */
export function caDisplayName(directoryUrl: string): string {
  const known = KNOWN_ACME_DIRECTORIES.find((directory) => directory.url === directoryUrl);
  if (known) return known.id === 'letsencrypt' ? "Let's Encrypt" : "Let's Encrypt's staging server";
  try {
    return `the CA at ${new URL(directoryUrl).host}`;
  } catch {
    return 'the CA';
  }
}

function caNameOf(context: FailureContext): string {
  return context.caName ?? caDisplayName(context.directoryUrl);
}

/** The name the failure is about: a subproblem's identifier, a name quoted in the detail, else the first ordered. */
function nameOf(problem: Record<string, unknown> | null, text: string, context: FailureContext): string {
  const identifier = problem && isObject(problem.identifier) ? problem.identifier.value : null;
  if (typeof identifier === 'string') return identifier;
  const sorted = [...context.names].sort((a, b) => b.length - a.length);
  const bare = (name: string) => name.replace(/^\*\./, '');
  return sorted.find((name) => text.includes(name)) ?? sorted.find((name) => text.includes(bare(name))) ?? context.names[0] ?? 'this name';
}

/** retryAt from Retry-After (seconds or an HTTP date), else from the detail's "retry after <time>". */
export function retryAtOf(retryAfter: string | null, detail: string, now: Date): string | null {
  if (retryAfter !== null) {
    const seconds = Number(retryAfter.trim());
    if (Number.isFinite(seconds) && seconds >= 0) return new Date(now.getTime() + seconds * 1000).toISOString();
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return new Date(date).toISOString();
  }
  // Let's Encrypt: "…, retry after 2025-01-01 15:04:05 UTC: see https://…"
  const match = /retry after (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)\s*(UTC|Z)?/i.exec(detail);
  if (match) {
    const date = Date.parse(`${match[1]!.replace(' ', 'T')}Z`);
    if (!Number.isNaN(date)) return new Date(date).toISOString();
  }
  return null;
}

function linkOf(link: string | null, rel: string): string | null {
  for (const part of (link ?? '').split(/,\s*(?=<)/)) {
    const match = /^<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (match && new RegExp(`rel\\s*=\\s*"?${rel}"?`, 'i').test(match[2]!)) return match[1]!;
  }
  return null;
}

function formatWhen(iso: string | null): string {
  if (!iso) return 'the limit lifts (usually within hours; weekly limits take up to a week)';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

/** The first address-like or host:port part of an HTTP-01 detail ("203.0.113.7: Fetching…"). */
function addressIn(text: string): string | null {
  const match = /\b((?:\d{1,3}\.){3}\d{1,3}|\[?[0-9a-f]*:[0-9a-f:]+\]?)(?::\d+)?:\s/i.exec(text) ?? /\b((?:\d{1,3}\.){3}\d{1,3})\b/.exec(text);
  return match ? match[1]!.replace(/^\[|\]$/g, '') : null;
}

/** What the other server answered, for "another server answered (404)". */
function answerIn(text: string): string | null {
  const status = /(?:status code|status|Invalid response from [^:]+(?::\d+)?[^:]*:)\s*"?(\d{3})\b/i.exec(text) ?? /\b(\d{3})\b(?=[^\d]*$)/.exec(text);
  return status ? status[1]! : null;
}

interface Say {
  code: AcmeFailure;
  message: string;
  fix: string;
}

function networkSay(ca: string, directoryUrl: string, code: string | null, text: string): Say {
  const why =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'its name does not resolve here'
    : code === 'ECONNREFUSED' ? 'the connection was refused'
    : code === 'ETIMEDOUT' || code === 'ECONNABORTED' ? 'it did not answer in time'
    : code && /CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/.test(code) ? 'its HTTPS certificate is not trusted here'
    : /Attempting to read ACME directory returned error (\d+)/.exec(text) ? `the URL answered HTTP ${/returned error (\d+)/.exec(text)![1]}, not an ACME directory`
    : 'the network request failed';
  const fix = /certificate/.test(why)
    ? 'If the directory is a CA on your own network (step-ca), paste its root into the account\'s "CA certificate of this directory" field; otherwise check that nothing intercepts HTTPS (a proxy or antivirus).'
    : /not an ACME directory/.test(why)
      ? 'Check the directory URL: it ends in /directory for Let\'s Encrypt, /acme/<provisioner>/directory for step-ca.'
      : 'Check that this machine reaches the internet (DNS and HTTPS out), and the directory URL; Gatehouse tries again later by itself.';
  return { code: 'ca_unreachable', message: `Gatehouse could not reach ${ca} at ${directoryUrl}: ${why}.`, fix };
}

function dnsSay(ca: string, name: string, detail: string, challenge: FailureContext['challenge']): Say {
  if (/NXDOMAIN/i.test(detail)) {
    return {
      code: 'name_not_found',
      message: `${name} does not exist in public DNS, so ${ca} cannot check it.`,
      fix: challenge === 'http-01' ? `Add an A (or AAAA) record for ${name} pointing at your public address at your DNS host, and check the spelling.` : `Check the spelling of ${name}, and that its domain is registered and delegated to the DNS host Gatehouse updates.`,
    };
  }
  if (/No TXT record|Incorrect TXT|TXT record/i.test(detail)) return recordSay(ca, name);
  const rcode = /\b(SERVFAIL|REFUSED|timeout|timed out|DNSSEC)\b/i.exec(detail)?.[1] ?? 'no good answer';
  return {
    code: 'dns_elsewhere',
    message: `${ca} asked ${name}'s name servers and got ${rcode.toLowerCase() === 'timed out' || rcode.toLowerCase() === 'timeout' ? 'no answer in time' : rcode}, so it could not check the name.`,
    fix: `Check at your registrar that ${name}'s domain points to name servers that answer for it (and that DNSSEC, if on, is set up at both ends); then try again.`,
  };
}

function recordSay(ca: string, name: string): Say {
  const base = name.replace(/^\*\./, '');
  return {
    code: 'record_not_visible',
    message: `${ca} did not see the right TXT record at _acme-challenge.${base}.`,
    fix: `Check that the DNS provider Gatehouse updates is the one the domain's public name servers use (a second DNS host, or a CNAME for acme-dns, is the usual cause), and lengthen the propagation wait if the record appears late.`,
  };
}

/** The port the CA dialled ("dial tcp 1.2.3.4:80", "http://name:5002/"); 80 unless the detail says. */
function portIn(text: string): number {
  const match = /dial tcp [^\s]*:(\d+)/.exec(text) ?? /https?:\/\/[^/\s"]+:(\d+)\//.exec(text);
  return match ? Number(match[1]) : 80;
}

function portClosedSay(ca: string, name: string, address: string | null, detail: string): Say {
  const where = address ?? name;
  const port = portIn(detail);
  const timedOut = /timeout|timed out/i.test(detail);
  return {
    code: 'port_closed',
    message: timedOut ? `${ca} got no answer from port ${port} on ${where} for ${name} (likely a firewall).` : `${ca} could not connect to port ${port} on ${where} for ${name}: nothing accepted the connection.`,
    fix: `Forward port ${port} on your router to this machine and allow it in the firewall, or use the DNS challenge.`,
  };
}

function otherServerSay(ca: string, name: string, address: string | null, detail: string): Say {
  const status = answerIn(detail);
  const where = address ? ` at ${address}` : '';
  return {
    code: 'other_server',
    message: `Another server answered ${ca}${where} for ${name}${status ? ` (HTTP ${status})` : ''}, not Gatehouse.`,
    fix: `Forward port 80 to this machine rather than to that server, and check that ${name}'s A/AAAA records point at your public address.`,
  };
}

function caaSay(ca: string, name: string): Say {
  return {
    code: 'caa_forbids',
    message: `${name}'s CAA records do not allow ${ca} to issue for it.`,
    fix: `Add a CAA record allowing it, such as 0 issue "letsencrypt.org" (issuewild for a wildcard), at your DNS host, or remove the CAA records.`,
  };
}

function say(type: string, ca: string, name: string, detail: string, found: Found, context: FailureContext): Say {
  const http = context.challenge === 'http-01' && !/TXT|_acme-challenge/i.test(detail);
  switch (type) {
    case 'rateLimited': {
      const retryAt = retryAtOf(found.exchange?.retryAfter ?? null, detail, context.now ?? new Date());
      return { code: 'rate_limited', message: `${ca} is refusing new certificates for ${name} for now: too many were asked for recently.`, fix: `Wait until ${formatWhen(retryAt)}; Gatehouse tries again then. Removing and re-adding the route only asks again.` };
    }
    case 'dns':
      return dnsSay(ca, name, detail, context.challenge);
    case 'connection':
      // Pebble says "could not resolve URL" where Let's Encrypt says "DNS problem: NXDOMAIN".
      if (/could not resolve|no such host|NXDOMAIN/i.test(detail)) return dnsSay(ca, name, `NXDOMAIN ${detail}`, context.challenge);
      if (/refused|timeout|timed out|no route|unreachable|reset by peer|i\/o timeout/i.test(detail)) return portClosedSay(ca, name, addressIn(detail), detail);
      return otherServerSay(ca, name, addressIn(detail), detail);
    case 'unauthorized':
    case 'incorrectResponse':
      if (/CAA/.test(detail)) return caaSay(ca, name);
      if (/external account/i.test(detail)) return eabSay(ca, detail);
      return http ? otherServerSay(ca, name, addressIn(detail), detail) : recordSay(ca, name);
    case 'caa':
      return caaSay(ca, name);
    case 'userActionRequired':
    case 'agreementRequired': {
      const terms = linkOf(found.exchange?.link ?? null, 'terms-of-service') ?? (typeof found.problem?.instance === 'string' ? found.problem.instance : null);
      return { code: 'terms_changed', message: `${ca} changed its terms of service, and they must be accepted before it issues again.`, fix: terms ? `Read the new terms at ${terms} and accept them for this account on the Certificates page.` : 'Read the new terms on the CA\'s website and accept them for this account on the Certificates page.' };
    }
    case 'externalAccountRequired':
      return eabSay(ca, detail);
    case 'malformed':
      if (/external ?account|EAB/i.test(detail)) return eabSay(ca, detail);
      return caErrorSay(ca, name);
    case 'rejectedIdentifier':
      return { code: 'name_rejected', message: `${ca} will not issue a certificate for ${name}${/public suffix|TLD|\.local|\.lan|\.home/i.test(detail) ? ': it is not a public domain name' : ''}.`, fix: `Use a name under a domain you own in public DNS (LAN-only names get a certificate from Gatehouse's own CA instead), or check the CA's policy for this name.` };
    case 'tls':
      return portClosedSay(ca, name, addressIn(detail), detail);
    default:
      return caErrorSay(ca, name);
  }
}

function eabSay(ca: string, detail: string): Say {
  const missing = /requires|required|must include/i.test(detail);
  return {
    code: 'eab_rejected',
    message: missing ? `${ca} needs External Account Binding, and this account has none.` : `${ca} rejected this account's External Account Binding (its key id or HMAC key).`,
    fix: 'Copy the EAB key id and HMAC key again from the CA\'s dashboard (they are often single-use) and add the account with them.',
  };
}

function caErrorSay(ca: string, name: string): Say {
  return { code: 'ca_error', message: `${ca} failed on its side while handling the order for ${name}.`, fix: 'Nothing to change here: Gatehouse tries again later; the CA\'s status page says whether it has an outage.' };
}

/** The error's text patterns, for errors that carry no problem type (acme-client's plain Errors, the DNS helper's). */
function typeFromText(text: string): string | null {
  if (/too many|rate limit|retry after/i.test(text)) return 'rateLimited';
  if (/CAA record/i.test(text)) return 'caa';
  if (/NXDOMAIN|SERVFAIL|DNS problem/i.test(text)) return 'dns';
  if (/external ?account|EAB/i.test(text)) return 'externalAccountRequired';
  if (/terms of service|agreement/i.test(text)) return 'userActionRequired';
  if (/Connection refused|connection reset|Timeout during connect|i\/o timeout|dial tcp/i.test(text)) return 'connection';
  if (/Correct value not found for DNS challenge|No TXT record|Incorrect TXT/i.test(text)) return 'unauthorized';
  if (/Invalid response from|The key authorization file from the server did not match|unexpected response|returned \d{3}/i.test(text)) return 'unauthorized';
  if (/cannot issue for|Domain name does not end with a valid public suffix|policy forbids/i.test(text)) return 'rejectedIdentifier';
  return null;
}

/** How a provider's plain-text failure (one not thrown as a DnsProviderError) is read. */
type ProviderFailure = 'credentials' | 'refused' | 'unreachable';

const PROVIDER_TEXT: Record<ProviderFailure, RegExp> = {
  credentials: /\b(credential|token|password|unauthori[sz]ed|authentication|invalid api key|forbidden|BADKEY|BADSIG|TSIG|401|403)\b/i,
  refused: /\b(REFUSED|NOTAUTH|not allowed|permission|denied)\b/i,
  unreachable: /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|could not reach|timed out|unreachable)\b/i,
};

function providerSay(kind: ProviderFailure, label: string, name: string): Say {
  const base = name.replace(/^\*\./, '');
  if (kind === 'unreachable') {
    return { code: 'dns_provider_unreachable', message: `Gatehouse could not reach ${label} to add the TXT record for ${base}.`, fix: `Check the provider's address in its settings and that this machine can reach it; Gatehouse tries again later.` };
  }
  return {
    code: 'credentials_rejected',
    message: kind === 'refused' ? `${label} refused to add the TXT record for ${base}: its key may not change that name.` : `${label} rejected Gatehouse's credentials while adding the TXT record for ${base}.`,
    fix: kind === 'refused' ? `Give the key permission to change TXT records under _acme-challenge.${base} (or the whole zone), or pick the right zone.` : 'Enter the API token or key again in the DNS provider\'s settings, with permission to edit DNS records of this zone, and test it there.',
  };
}

/** Turns any failure of an order (acme-client error, network error, DNS provider error, problem document) into one sentence and its fix. */
export function acmeProblemOf(error: unknown, context: FailureContext): AcmeProblem {
  const ca = caNameOf(context);
  const label = context.dnsProviderLabel ?? 'the DNS provider';
  // The DNS-01 providers already say what went wrong in one sentence, naming the provider and the record.
  if (error instanceof DnsProviderError) return error.toProblem();
  const found = findAnswer(error);
  const { problem, text } = found;
  if (problem) {
    // A compound problem names the failing identifier in a subproblem: classify that one.
    const sub = Array.isArray(problem.subproblems) ? problem.subproblems.find(isObject) : undefined;
    const main = sub && String(problem.type ?? '').endsWith(':compound') ? sub : problem;
    const type = String(main.type ?? '').replace(ACME_ERROR, '');
    const detail = String(main.detail ?? problem.detail ?? text);
    const name = nameOf(main, detail, context);
    const said = say(type, ca, name, detail, { ...found, problem: main }, context);
    const retryAt = said.code === 'rate_limited' ? retryAtOf(found.exchange?.retryAfter ?? null, detail, context.now ?? new Date()) : null;
    return { ...said, details: JSON.stringify(problem), retryAt };
  }
  if ((found.networkCode && NETWORK_CODES.test(found.networkCode)) || found.exchange?.status === null || NETWORK_TEXT.test(text)) {
    const details = found.exchange ? `${found.exchange.networkCode ?? ''} ${found.exchange.networkMessage ?? ''} (${found.exchange.method} ${found.exchange.url}); ${text}`.trim() : text;
    return { ...networkSay(ca, context.directoryUrl, found.networkCode, text), details, retryAt: null };
  }
  // A gateway or CDN in front of the CA answering 5xx with an HTML page instead of a problem document.
  if (found.exchange && found.exchange.status !== null && found.exchange.status >= 500) {
    return { ...caErrorSay(ca, nameOf(null, text, context)), details: `HTTP ${found.exchange.status} from ${found.exchange.method} ${found.exchange.url}; ${text}`, retryAt: retryAtOf(found.exchange.retryAfter, '', context.now ?? new Date()) };
  }
  for (const kind of ['unreachable', 'refused', 'credentials'] as const) {
    if (/dns provider|TXT record for|nsupdate|cloudflare|duckdns|acme-dns|hook/i.test(text) && PROVIDER_TEXT[kind].test(text)) {
      return { ...providerSay(kind, label, context.names[0] ?? 'this name'), details: text, retryAt: null };
    }
  }
  const type = typeFromText(text);
  if (type) {
    const name = nameOf(null, text, context);
    const said = say(type, ca, name, text, found, context);
    return { ...said, details: text, retryAt: said.code === 'rate_limited' ? retryAtOf(null, text, context.now ?? new Date()) : null };
  }
  return { code: 'internal', message: `The certificate order for ${context.names[0] ?? 'this name'} failed in a way Gatehouse does not recognise.`, fix: 'Try again; if it repeats, report it with the details below.', details: error instanceof Error ? (error.stack ?? text) : text, retryAt: null };
}
