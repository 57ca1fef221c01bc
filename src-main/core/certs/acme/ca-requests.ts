// Signed requests to a CA through acme-client's lower-level API (client.api), keeping what the CA
// said. acme-client's own helpers throw `new Error(detail)` and drop the problem document's type,
// status and Retry-After; the failure classes (problems.ts) need all three, so every request here
// that can fail throws an AcmeCaError carrying them.
import type { Client } from 'acme-client';

/** An RFC 7807 / RFC 8555 §6.7 problem document as a CA sends it. */
export interface CaProblemDocument {
  type?: string;
  detail?: string;
  status?: number;
  subproblems?: { type?: string; detail?: string; identifier?: { type: string; value: string } }[];
  [key: string]: unknown;
}

/** A CA's refusal (or a failed challenge), with its problem document and when to try again. */
export class AcmeCaError extends Error {
  constructor(
    /** What Gatehouse was doing: "creating the order", "validating app.example.com". */
    readonly step: string,
    readonly problem: CaProblemDocument,
    /** The HTTP status of the answer; 0 for a challenge's error read from its authorization. */
    readonly status: number,
    /** The Retry-After header as sent, or null. */
    readonly retryAfter: string | null,
  ) {
    super(`${step}: ${problem.detail ?? problem.type ?? `HTTP ${status}`}`);
    this.name = 'AcmeCaError';
  }
}

interface ApiResponse {
  status: number;
  data: unknown;
  headers: Record<string, string | undefined>;
}

/** The parts of acme-client's AcmeApi used here (it is not in its type definitions). */
interface LowLevelApi {
  apiRequest(url: string, payload: unknown, validStatusCodes?: number[], options?: { includeJwsKid?: boolean }): Promise<ApiResponse>;
  apiResourceRequest(
    resource: string,
    payload: unknown,
    validStatusCodes?: number[],
    options?: { includeJwsKid?: boolean; includeExternalAccountBinding?: boolean },
  ): Promise<ApiResponse>;
}

function lowLevel(client: Client): LowLevelApi {
  return (client as unknown as { api: LowLevelApi }).api;
}

function check(step: string, response: ApiResponse, ok: readonly number[]): ApiResponse {
  if (ok.includes(response.status)) return response;
  const document = response.data && typeof response.data === 'object' ? (response.data as CaProblemDocument) : { detail: String(response.data ?? '') };
  throw new AcmeCaError(step, document, response.status, response.headers['retry-after'] ?? null);
}

/** POST to a directory resource (newOrder, …) signed with the account's kid. */
export async function postResource(client: Client, step: string, resource: string, payload: unknown, ok: readonly number[]): Promise<ApiResponse> {
  return check(step, await lowLevel(client).apiResourceRequest(resource, payload, []), ok);
}

/**
 * newAccount signed with the key itself (no kid yet), with the client's External Account Binding
 * when it has one; `onlyReturnExisting` finds the account a key belongs to without creating one.
 */
export async function postNewAccount(client: Client, step: string, payload: Record<string, unknown>): Promise<{ url: string; status: number }> {
  const response = check(
    step,
    await lowLevel(client).apiResourceRequest('newAccount', payload, [], { includeJwsKid: false, includeExternalAccountBinding: payload.onlyReturnExisting !== true }),
    [200, 201],
  );
  const url = response.headers.location;
  if (!url) throw new AcmeCaError(step, { detail: 'the CA answered without the account URL (no Location header)' }, response.status, null);
  return { url, status: response.status };
}

/** POST (or POST-as-GET with a null payload) to a URL the CA gave. */
export async function postUrl(client: Client, step: string, url: string, payload: unknown, ok: readonly number[] = [200]): Promise<ApiResponse> {
  return check(step, await lowLevel(client).apiRequest(url, payload, []), ok);
}

/** How long to wait for a CA to move an order or authorization on, ms (3 minutes). */
export const POLL_TIMEOUT_MS = 180_000;

/**
 * Polls `url` until `done` says the object is finished (returns it) or failed (throws), waiting
 * 200 ms at first and doubling up to 3 s, or what the CA's Retry-After asks (at most 10 s).
 */
export async function pollUntil<T>(client: Client, step: string, url: string, done: (body: T) => boolean, signal: AbortSignal): Promise<T> {
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  let wait = 200;
  for (;;) {
    signal.throwIfAborted();
    const response = await postUrl(client, step, url, null);
    const body = response.data as T;
    if (done(body)) return body;
    if (Date.now() > deadline) throw new AcmeCaError(step, { detail: `the CA did not finish within ${POLL_TIMEOUT_MS / 1000} s` }, 0, null);
    const asked = Number(response.headers['retry-after']);
    const delay = Number.isFinite(asked) && asked > 0 ? Math.min(asked * 1000, 10_000) : wait;
    await new Promise((resolve) => setTimeout(resolve, delay));
    wait = Math.min(wait * 2, 3000);
  }
}
