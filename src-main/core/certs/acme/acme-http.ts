// How Gatehouse talks to an ACME directory through acme-client: trusting a private CA for one
// directory only (Pebble, a step-ca on the LAN), and reading the directory's meta.
//
// acme-client sends every request through one axios instance shared by the whole process
// (acme.axios), and its key change builds a fresh HttpClient inside updateAccountKey, so neither a
// per-client option nor patching a client instance reaches every request. Instead each call that
// talks to a CA runs inside `withDirectoryTrust`, and one request interceptor on the shared
// instance gives the requests made in that async context the directory's agent. A CA trusted for
// one account's directory is therefore never trusted for another's request, and
// NODE_TLS_REJECT_UNAUTHORIZED is never touched.
import { captureAcmeExchange, exchangeRecordsOf } from './problem-capture.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { loadAcme } from './acme-library.js';
import type { AcmeDirectoryInfo } from '../../../../shared/acme.js';

/** How long one HTTP request to a CA may take before it fails, ms (30 s); acme-client retries 5xx and 429 on its own. */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * The most of one CA answer that is read, bytes (1 MiB): a directory is a few hundred bytes and a
 * chain a few KiB, so a mistyped URL pointing at a big file (or a hostile server) is cut off early.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

const trust = new AsyncLocalStorage<Agent>();
/** One agent per CA PEM: keep-alive connections are reused between the calls of an order. */
const agents = new Map<string, Agent>();
let interceptorInstalled = false;

function agentFor(caPem: string | null): Agent | null {
  if (caPem === null) return null;
  let agent = agents.get(caPem);
  if (!agent) {
    // The public roots too: a directory behind a public certificate keeps working if a CA is set.
    agent = new Agent({ ca: [...rootCertificates, caPem], keepAlive: true, maxSockets: 8 });
    agents.set(caPem, agent);
  }
  return agent;
}

function installInterceptor(acme: Awaited<ReturnType<typeof loadAcme>>): void {
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  acme.axios.interceptors.request.use((config) => {
    const agent = trust.getStore();
    if (agent) {
      config.httpsAgent = agent;
      // A private CA is on the LAN: an HTTPS_PROXY in the environment would tunnel to it (and replace the agent).
      config.proxy = false;
    }
    config.timeout ??= REQUEST_TIMEOUT_MS;
    // axios's default is -1 (no limit); a caller's own smaller limit stands.
    if (config.maxContentLength === undefined || config.maxContentLength < 0 || config.maxContentLength > MAX_ANSWER_BYTES) config.maxContentLength = MAX_ANSWER_BYTES;
    if (config.maxBodyLength === undefined || config.maxBodyLength < 0 || config.maxBodyLength > MAX_ANSWER_BYTES) config.maxBodyLength = MAX_ANSWER_BYTES;
    return config;
  });
}

/** Runs `work` so that every acme-client request it makes trusts `caPem` (besides the public roots), its exchanges captured. */
export async function withDirectoryTrust<T>(caPem: string | null, work: () => Promise<T>): Promise<T> {
  installInterceptor(await loadAcme());
  const agent = agentFor(caPem);
  // Every call to a CA is captured (problems.ts reads the whole problem document, Retry-After and
  // Link from the records), which also stops acme-client sleeping through Retry-After or retrying a
  // dead CA for 75 s: Gatehouse's own backoff (renewal-plan.ts) decides when to try again.
  const captured = () => captureAcmeExchange(work);
  return agent ? trust.run(agent, captured) : trust.exit(captured);
}

/**
 * acme-client's interceptor retries a failed request five times, 5 to 25 s apart; reading a
 * directory the person just typed should fail at once instead (its counter starts past the limit).
 */
const NO_RETRY = { retryAttempt: 1000 } as object;

interface DirectoryDocument {
  newAccount?: string;
  newOrder?: string;
  renewalInfo?: string;
  meta?: {
    termsOfService?: string;
    website?: string;
    caaIdentities?: string[];
    externalAccountRequired?: boolean;
    profiles?: Record<string, string>;
  };
}

/** The directory document itself (its URLs and meta). Rejects when it is not an ACME directory. */
export async function fetchDirectory(directoryUrl: string, caPem: string | null): Promise<DirectoryDocument> {
  const acme = await loadAcme();
  const answer = await withDirectoryTrust(caPem, () => acme.axios.get<unknown>(directoryUrl, { headers: { accept: 'application/json' }, ...NO_RETRY })).catch((error: unknown) => {
    // acme-client's retry interceptor hides axios's own error behind a TypeError; the capture kept it.
    const said = [error instanceof Error ? error.message : '', ...exchangeRecordsOf(error).map((entry) => entry.networkMessage ?? '')];
    if (said.some((message) => /maxContentLength/.test(message))) {
      throw new Error(`${directoryUrl} answered with more than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, so it is not an ACME directory (a directory is a few hundred bytes)`);
    }
    throw error;
  });
  const body = answer.data as DirectoryDocument | null;
  if (answer.status !== 200 || !body || typeof body !== 'object' || typeof body.newOrder !== 'string' || typeof body.newAccount !== 'string') {
    throw new Error(`${directoryUrl} answered HTTP ${answer.status} without an ACME directory (no newAccount/newOrder)`);
  }
  return body;
}

export function directoryInfo(url: string, document: DirectoryDocument): AcmeDirectoryInfo {
  const meta = document.meta ?? {};
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  return {
    url,
    termsOfService: text(meta.termsOfService),
    website: text(meta.website),
    caaIdentities: Array.isArray(meta.caaIdentities) ? meta.caaIdentities.filter((entry) => typeof entry === 'string') : [],
    externalAccountRequired: meta.externalAccountRequired === true,
    profiles: Object.entries(meta.profiles && typeof meta.profiles === 'object' ? meta.profiles : {}).map(([name, description]) => ({ name, description: String(description) })),
    renewalInfo: typeof document.renewalInfo === 'string',
  };
}

/** Closes the kept-alive connections (the gateway's close). */
export function closeDirectoryAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}
