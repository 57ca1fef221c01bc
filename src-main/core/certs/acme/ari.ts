// ACME Renewal Information (RFC 9773): the certificate's ARI id, and the window its CA suggests.
// The id needs the Authority Key Identifier's bytes, which node:crypto's X509Certificate does not
// expose, so a few lines of DER walking over the certificate read them (and the serial's exact
// encoded bytes, leading 0x00 included) without another dependency.
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import type { RenewalInfo } from './renewal-plan.js';

interface DerElement {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the last content byte. */
  end: number;
}

function readElement(der: Uint8Array, at: number, limit: number): DerElement {
  if (at + 2 > limit) throw new Error('truncated DER');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > limit) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  if (start + length > limit) throw new Error('DER element runs past its parent');
  return { tag, start, end: start + length };
}

function children(der: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const element = readElement(der, at, parent.end);
    out.push(element);
    at = element.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const OID = 0x06;
const EXTENSIONS = 0xa3; // [3] EXPLICIT in TBSCertificate
const KEY_IDENTIFIER = 0x80; // [0] IMPLICIT in AuthorityKeyIdentifier
const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]); // 2.5.29.35

/** The serial's content bytes and the AKI keyIdentifier bytes of a DER certificate. */
export function ariParts(der: Uint8Array): { keyIdentifier: Buffer; serial: Buffer } {
  const certificate = readElement(der, 0, der.length);
  const tbs = children(der, certificate)[0];
  if (certificate.tag !== SEQUENCE || tbs?.tag !== SEQUENCE) throw new Error('not an X.509 certificate');
  const fields = children(der, tbs);
  const serial = fields.find((field) => field.tag === INTEGER);
  const extensions = fields.find((field) => field.tag === EXTENSIONS);
  if (!serial) throw new Error('the certificate has no serial number');
  let keyIdentifier: Buffer | null = null;
  const list = extensions ? children(der, extensions)[0] : undefined;
  for (const extension of list ? children(der, list) : []) {
    const [oid, ...rest] = children(der, extension);
    if (oid?.tag !== OID || !AKI_OID.equals(der.subarray(oid.start, oid.end))) continue;
    const value = rest.find((element) => element.tag === OCTET_STRING);
    if (!value) break;
    const aki = readElement(der, value.start, value.end);
    const id = children(der, aki).find((element) => element.tag === KEY_IDENTIFIER);
    if (id) keyIdentifier = Buffer.from(der.subarray(id.start, id.end));
  }
  if (!keyIdentifier) throw new Error('the certificate has no Authority Key Identifier, so it has no ARI id');
  return { keyIdentifier, serial: Buffer.from(der.subarray(serial.start, serial.end)) };
}

/** base64url(AKI keyIdentifier) "." base64url(serial DER bytes), RFC 9773 §4.1. Takes the leaf first in a chain. */
export function ariCertificateId(certificatePem: string): string {
  let der: Uint8Array;
  try {
    der = new X509Certificate(certificatePem).raw;
  } catch (error) {
    throw new Error(`The certificate could not be read to find its ARI id: ${(error as Error).message}.`);
  }
  const { keyIdentifier, serial } = ariParts(der);
  return `${keyIdentifier.toString('base64url')}.${serial.toString('base64url')}`;
}

export interface RenewalInfoOptions {
  /** Extra CA (PEM) to trust for the directory's HTTPS (Pebble's own, a step-ca's root), besides the public roots. Default: none. */
  ca?: string | null;
  /** Give up on the whole request after this long, in ms. Default: 15000. */
  timeoutMs?: number;
  now: Date;
}

const MINUTE = 60_000;
/** RFC 9773 §4.3 asks clients to bound their polling: at most once a minute, at least once a day. */
export const RETRY_AFTER_MIN_MS = MINUTE;
export const RETRY_AFTER_MAX_MS = 24 * 60 * MINUTE;
/** When the CA sends no Retry-After. */
export const RETRY_AFTER_DEFAULT_MS = 6 * 60 * MINUTE;

/** Retry-After (delta-seconds or an HTTP date) as a time, kept within a minute and a day of now. */
export function retryAfterFrom(header: string | null | undefined, now: Date): Date {
  let delay = RETRY_AFTER_DEFAULT_MS;
  const value = header?.trim() ?? '';
  if (/^\d+$/.test(value)) delay = Number(value) * 1000;
  else if (value !== '' && !Number.isNaN(Date.parse(value))) delay = Date.parse(value) - now.getTime();
  return new Date(now.getTime() + Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, delay)));
}

/** Validates a renewalInfo body; throws one sentence naming what is wrong. */
export function parseRenewalInfo(body: unknown, retryAfterHeader: string | null | undefined, now: Date): RenewalInfo {
  const window = (body as { suggestedWindow?: { start?: unknown; end?: unknown } } | null)?.suggestedWindow;
  if (!window || typeof window !== 'object') throw new Error('The CA’s renewal information has no suggestedWindow.');
  const start = typeof window.start === 'string' ? new Date(window.start) : null;
  const end = typeof window.end === 'string' ? new Date(window.end) : null;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    throw new Error('The CA’s renewal window has a start or end that is not a date.');
  }
  if (end.getTime() <= start.getTime()) {
    throw new Error(`The CA’s renewal window ends (${end.toISOString()}) before it starts (${start.toISOString()}), so it is ignored.`);
  }
  const explanation = (body as { explanationURL?: unknown }).explanationURL;
  return {
    window: { start, end },
    explanationUrl: typeof explanation === 'string' && /^https?:\/\//.test(explanation) ? explanation : null,
    retryAfter: retryAfterFrom(retryAfterHeader, now),
  };
}

function trustAgent(ca: string | null | undefined, timeoutMs: number): Agent {
  return new Agent({
    connect: { ...(ca ? { ca: [...rootCertificates, ca] } : {}), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

/** GET <renewalInfo>/<certificate id>; rejects with one sentence when the CA has none or answers badly. */
export async function fetchRenewalInfo(renewalInfoUrl: string, certificatePem: string, options: RenewalInfoOptions): Promise<RenewalInfo> {
  const url = `${renewalInfoUrl.replace(/\/+$/, '')}/${ariCertificateId(certificatePem)}`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const agent = trustAgent(options.ca, timeoutMs);
  try {
    const answer = await request(url, {
      dispatcher: agent,
      headers: { accept: 'application/json', 'user-agent': 'Gatehouse' },
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((error: unknown) => {
      const reason = (error as Error).name === 'TimeoutError' || /timeout/i.test(String((error as { code?: string }).code)) ? `no answer within ${timeoutMs / 1000} s` : (error as Error).message;
      throw new Error(`Could not ask the CA for renewal information at ${url}: ${reason}.`, { cause: error });
    });
    // A renewalInfo answer is a few hundred bytes: a huge one is cut off, not read into memory (1 MiB).
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of answer.body) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (text.length > 1024 * 1024) throw new Error(`The CA’s renewal information at ${url} is larger than 1 MiB, so it is not renewal information.`);
    }
    text += decoder.decode();
    if (answer.statusCode !== 200) {
      throw new Error(`The CA answered ${answer.statusCode} when asked for renewal information at ${url}.`, { cause: text.slice(0, 2000) });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`The CA’s renewal information at ${url} is not JSON.`, { cause: text.slice(0, 2000) });
    }
    const retryAfter = answer.headers['retry-after'];
    return parseRenewalInfo(body, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, options.now);
  } finally {
    // destroy, not close: after a timeout a hung request must not hold the caller up.
    await agent.destroy();
  }
}
