// One HTTP call to a DNS provider's API (Cloudflare, acme-dns, DuckDNS): bounded in time and size,
// its failure to connect a sentence naming the provider, and nothing of the credentials in what it
// keeps for "details".
import { bounded, DnsProviderError, redact } from './errors.js';

/** How long one API call may take, ms. Default: 20000. */
export const API_TIMEOUT_MS = 20_000;
/** Most of an answer that is read, bytes: these APIs answer in a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiAnswer {
  status: number;
  text: string;
  /** The body as JSON; undefined when it is not JSON. */
  json: unknown;
}

export interface ApiCall {
  /** Who answers, for messages: "Cloudflare", "The acme-dns server at https://auth.example.com". */
  who: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Secrets to strip from anything kept (the URL may carry a token, the body may echo it). */
  secrets: (string | null)[];
}

export async function callApi(call: ApiCall): Promise<ApiAnswer> {
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method ?? 'GET',
      headers: { accept: 'application/json', ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}), ...call.headers },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      redirect: 'error',
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new DnsProviderError(
      'dns_provider_unreachable',
      `${call.who} did not answer (${redact(cause, ...call.secrets)}).`,
      'Check that this machine can reach it; try again in a minute.',
      redact(`${call.method ?? 'GET'} ${call.url}: ${cause}`, ...call.secrets),
    );
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.subarray(0, MAX_BODY_BYTES).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

/** What to keep behind "details" for an answer: the request line, status and body, secrets stripped. */
export function answerDetails(call: ApiCall, answer: ApiAnswer): string {
  return bounded(redact(`${call.method ?? 'GET'} ${call.url} → ${answer.status}: ${answer.text}`, ...call.secrets));
}
