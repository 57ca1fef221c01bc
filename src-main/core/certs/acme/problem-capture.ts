// What the CA actually answered, kept for acmeProblemOf. acme-client turns a problem document into
// `new Error(detail)`: the problem's `type`, its subproblems, the Retry-After and Link headers are
// gone, and a network failure to the directory ends (after its own retries) as a TypeError
// ("Cannot read properties of undefined (reading 'config')") with the errno lost. So Gatehouse wraps
// the HTTP adapter of acme-client's own axios instance and records, per call of
// captureAcmeExchange (AsyncLocalStorage, so concurrent orders never see each other's answers), every
// problem document, every object carrying an `error` (an invalid challenge or authorization) and
// every network error. The recording is attached to the error the wrapped call rejects with.
//
// It also stops acme-client's in-library retry loop where it hurts: on 429 acme-client would sleep
// for the whole Retry-After (hours), up to 5 times, inside one call; on a 5xx without a short
// Retry-After, and on a network error, it retries 5 times over 75 s (a network error then ends as
// that TypeError). Only a 5xx asking to wait at most a minute is still retried in place. The
// service has its own backoff, and the person wants the sentence now.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { loadAcme } from './acme-library.js';

/** One answer from the CA (or the failure to get one) during a captured call. */
export interface AcmeExchangeRecord {
  url: string;
  method: string;
  /** HTTP status; null for a network error. */
  status: number | null;
  /** The problem document (RFC 7807) when the body was one, or the `error` of a challenge/authorization. */
  problem: Record<string, unknown> | null;
  retryAfter: string | null;
  /** The Link header (terms-of-service on userActionRequired). */
  link: string | null;
  /** Node's error code for a network error (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, …). */
  networkCode: string | null;
  networkMessage: string | null;
}

const storage = new AsyncLocalStorage<AcmeExchangeRecord[]>();
const recordsOfError = new WeakMap<object, AcmeExchangeRecord[]>();
/** A 5xx whose Retry-After is at most this long (s) is still retried by acme-client itself. */
const IN_LIBRARY_RETRY_LIMIT_S = 60;
let installed = false;

type AxiosConfig = { url?: string; method?: string; retryAttempt?: number };
type AxiosResponse = { status: number; headers: Record<string, unknown>; data: unknown; config: AxiosConfig };
type Adapter = (config: AxiosConfig) => Promise<AxiosResponse>;

function header(headers: Record<string, unknown> | undefined, name: string): string | null {
  const value = headers?.[name];
  if (value === undefined || value === null) return null;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The problem a response carries: the body itself (problem+json), or an invalid object's `error`. */
export function problemInBody(data: unknown): Record<string, unknown> | null {
  let body = data;
  if (typeof body === 'string' && body.trim().startsWith('{')) {
    try {
      body = JSON.parse(body);
    } catch {
      return null;
    }
  }
  if (!isObject(body)) return null;
  if (typeof body.type === 'string' && body.type.includes(':error:')) return body;
  if (isObject(body.error) && typeof body.error.type === 'string') return body.error;
  // An invalid authorization names its failed challenge's error inside `challenges`.
  if (body.status === 'invalid' && Array.isArray(body.challenges)) {
    for (const challenge of body.challenges) if (isObject(challenge) && isObject(challenge.error)) return challenge.error;
  }
  return null;
}

function stopLibraryRetry(config: AxiosConfig): void {
  // acme-client's interceptor retries while retryAttempt+1 <= retryMaxAttempts.
  config.retryAttempt = Number.MAX_SAFE_INTEGER - 1;
}

function record(entry: AcmeExchangeRecord): void {
  storage.getStore()?.push(entry);
}

function onResponse(config: AxiosConfig, response: AxiosResponse): void {
  const retryAfter = header(response.headers, 'retry-after');
  const problem = problemInBody(response.data);
  if (problem || response.status >= 400) {
    record({ url: config.url ?? '', method: (config.method ?? 'get').toUpperCase(), status: response.status, problem, retryAfter, link: header(response.headers, 'link'), networkCode: null, networkMessage: null });
  }
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter.trim());
  const shortWait = seconds > 0 && seconds <= IN_LIBRARY_RETRY_LIMIT_S;
  if (response.status === 429 || (response.status >= 500 && !shortWait)) stopLibraryRetry(config);
}

/**
 * Wraps acme-client's axios adapter once; captureAcmeExchange calls it, so callers need not.
 * Outside captureAcmeExchange nothing is recorded, but the retry limits above still apply.
 */
export async function installProblemCapture(): Promise<void> {
  if (installed) return;
  const acme = await loadAcme();
  if (installed) return;
  const requireHere = createRequire(import.meta.url);
  // The axios copy acme-client itself loaded, for its http adapter function.
  const axiosOfAcme = createRequire(requireHere.resolve('acme-client'))('axios') as { getAdapter(name: string): Adapter };
  const http = axiosOfAcme.getAdapter('http');
  const instance = acme.axios as unknown as { defaults: { adapter: unknown } };
  instance.defaults.adapter = async (config: AxiosConfig): Promise<AxiosResponse> => {
    try {
      const response = await http(config);
      onResponse(config, response);
      return response;
    } catch (error) {
      const failure = error as { code?: string; message?: string; response?: AxiosResponse };
      if (failure.response) {
        onResponse(config, failure.response);
      } else {
        record({ url: config.url ?? '', method: (config.method ?? 'get').toUpperCase(), status: null, problem: null, retryAfter: null, link: null, networkCode: failure.code ?? null, networkMessage: failure.message ?? null });
        stopLibraryRetry(config);
      }
      throw error;
    }
  };
  installed = true;
}

/**
 * Runs `call` (any acme-client calls: client.auto, createAccount, createOrder…) recording what the CA
 * answered; when it rejects, the records ride along on the error for acmeProblemOf.
 */
export async function captureAcmeExchange<T>(call: () => Promise<T>): Promise<T> {
  await installProblemCapture();
  const records: AcmeExchangeRecord[] = [];
  try {
    return await storage.run(records, call);
  } catch (error) {
    if (isObject(error) || error instanceof Error) recordsOfError.set(error, records);
    throw error;
  }
}

/** What the CA answered during the captured call that failed with `error`; [] when none is known. */
export function exchangeRecordsOf(error: unknown): readonly AcmeExchangeRecord[] {
  return (isObject(error) || error instanceof Error) ? (recordsOfError.get(error) ?? []) : [];
}
