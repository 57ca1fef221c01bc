// A local ACME front for tests: an HTTPS server that passes every request to a Pebble
// (test/helpers/pebble.ts) byte for byte and adds what Debian's Pebble 2.4 lacks, as the RFCs
// describe it: ACME Renewal Information (RFC 9773: `renewalInfo` in the directory, GET
// renewalInfo/<id> answering a window with Retry-After; a second replacement of one certificate
// refused with alreadyReplaced) and profiles (draft-ietf-acme-profiles: `meta.profiles`, an unknown
// `profile` in newOrder refused with invalidProfile).
//
// Pebble checks each JWS `url` against https://<Host header><path> and writes every URL it hands out
// (directory, orders, certificates) from the Host header too, so keeping the client's Host makes
// the front's own address the ACME server's address without rewriting anything. Pebble 2.4 ignores
// unknown newOrder fields (Go's json.Unmarshal), so `profile` and `replaces` reach it untouched and
// the signature stays valid (a front could not strip a field without re-signing).
//
// It also records each newOrder's decoded payload, remembers each certificate it saw downloaded (by
// ARI id), and can answer the next N requests to a path with a problem document instead of Pebble
// (429 rateLimited with Retry-After, 403 userActionRequired with a terms-of-service Link…).
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ariCertificateId } from '../../src-main/core/certs/acme/ari.js';
import type { Pebble } from './pebble.js';

export const DEFAULT_PROFILES: Readonly<Record<string, string>> = {
  classic: 'The same profile as before profiles existed: 90 days, server and client authentication',
  tlsserver: 'Server authentication only, 90 days, no subject common name',
  shortlived: 'Server authentication only, 6 days (160 hours)',
};

export const RENEWAL_INFO_PATH = '/renewal-info/';

/** Per connection, not per message: the front has its own connections on each side (and sets the length). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection']);

export interface AcmeFrontOptions {
  pebble: Pebble;
  /** `meta.profiles` to advertise (name → description); null for none. Default: DEFAULT_PROFILES. */
  profiles?: Record<string, string> | null;
  /** Whether the directory offers `renewalInfo`. Default: true. */
  renewalInfo?: boolean;
}

/** What GET renewalInfo/<id> answers. */
export interface RenewalWindowAnswer {
  start: Date | string;
  end: Date | string;
  explanationUrl?: string;
  /** The Retry-After header as sent ("3600", an HTTP date); null to send none. Default: "21600". */
  retryAfter?: string | null;
}

export interface ProblemAnswer {
  /** HTTP status. */
  status: number;
  /** Full URN, e.g. urn:ietf:params:acme:error:rateLimited. */
  type: string;
  detail: string;
  /** Extra headers: Retry-After, Link: <…>;rel="terms-of-service". */
  headers?: Record<string, string>;
  /** How many matching requests get it. Default: 1. */
  times?: number;
}

export interface RecordedOrder {
  at: Date;
  /** The decoded JWS payload, as the client signed it. */
  payload: Record<string, unknown>;
  /** The status the client was answered. */
  status: number;
}

export interface SeenCertificate {
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface AcmeFront {
  /** https://127.0.0.1:PORT/dir */
  readonly directoryUrl: string;
  readonly port: number;
  /** Trust this for the front's HTTPS (Pebble's API certificate; the front presents the same one). */
  readonly apiCa: string;
  /** https://127.0.0.1:PORT/renewal-info */
  readonly renewalInfoUrl: string;
  /** Every newOrder, in order. */
  readonly orders: RecordedOrder[];
  /** The ids GET renewalInfo/<id> was asked for, in order. */
  readonly renewalInfoRequests: string[];
  /** Certificates clients downloaded through the front, by ARI id. */
  readonly certificates: Map<string, SeenCertificate>;
  /** Every request as "METHOD /path", in order. */
  readonly requests: string[];
  /** The window for one certificate id, or for every id without its own (`null`). */
  setRenewalInfo(certificateId: string | null, answer: RenewalWindowAnswer): void;
  /**
   * Answer the next `times` requests whose path matches with a problem document. `target` is a
   * directory resource name ("newOrder", "newAccount", "renewalInfo"…), an exact path, or a RegExp.
   * Note: acme-client itself resends a request answered 429 or 5xx up to 5 times (sleeping its
   * Retry-After), unless `acme.axios.defaults.acmeSettings.retryMaxAttempts` is lowered.
   */
  failNext(target: string | RegExp, problem: ProblemAnswer): void;
  close(): Promise<void>;
}

interface Injection {
  match: (path: string) => boolean;
  problem: ProblemAnswer;
  left: number;
}

export async function startAcmeFront(options: AcmeFrontOptions): Promise<AcmeFront> {
  const { pebble } = options;
  const profiles = options.profiles === undefined ? DEFAULT_PROFILES : options.profiles;
  const offerRenewalInfo = options.renewalInfo ?? true;
  const [cert, key] = await Promise.all([readFile(join(pebble.dir, 'c.pem'), 'utf8'), readFile(join(pebble.dir, 'k.pem'), 'utf8')]);
  const windows = new Map<string | null, RenewalWindowAnswer>();
  const injections: Injection[] = [];
  const orders: RecordedOrder[] = [];
  const renewalInfoRequests: string[] = [];
  const certificates = new Map<string, SeenCertificate>();
  const requests: string[] = [];
  /** Order id (the last segment of its URL and of its finalize URL, in Pebble) → the ARI id it replaces; ids whose replacement was issued. */
  const replacing = new Map<string, string>();
  const replaced = new Set<string>();
  /** Pebble's resource name → path, read from its directory at start. */
  const resources = new Map<string, string>();
  const directoryPath = new URL(pebble.directoryUrl).pathname;

  function toPebble(method: string, path: string, headers: IncomingMessage['headers'], body: Buffer | null): Promise<{ status: number; rawHeaders: string[]; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const forwarded = Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
      if (body) forwarded['content-length'] = String(body.length);
      const outgoing = httpsRequest({ host: '127.0.0.1', port: pebble.port, method, path, headers: forwarded, ca: pebble.apiCa, agent: false }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, rawHeaders: answer.rawHeaders, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(body ?? undefined);
    });
  }

  async function freshNonce(host: string): Promise<string | null> {
    const answer = await toPebble('HEAD', resources.get('newNonce') ?? '/nonce-plz', { host }, null).catch(() => null);
    const at = answer?.rawHeaders.findIndex((name, index) => index % 2 === 0 && name.toLowerCase() === 'replay-nonce') ?? -1;
    return at >= 0 ? answer!.rawHeaders[at + 1]! : null;
  }

  async function sendProblem(response: ServerResponse, host: string, problem: Omit<ProblemAnswer, 'times'>): Promise<void> {
    const nonce = await freshNonce(host);
    response.writeHead(problem.status, {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      ...(nonce ? { 'replay-nonce': nonce } : {}),
      ...problem.headers,
    });
    response.end(JSON.stringify({ type: problem.type, detail: problem.detail, status: problem.status }));
  }

  function windowFor(id: string): RenewalWindowAnswer | null {
    const set = windows.get(id) ?? windows.get(null);
    if (set) return set;
    const seen = certificates.get(id);
    if (!seen) return null;
    // Like Let's Encrypt: a window a little before two thirds of the certificate's life.
    const life = seen.notAfter.getTime() - seen.notBefore.getTime();
    return { start: new Date(seen.notBefore.getTime() + life * 0.6), end: new Date(seen.notBefore.getTime() + life * 0.7) };
  }

  function answerRenewalInfo(response: ServerResponse, id: string, host: string): Promise<void> | void {
    renewalInfoRequests.push(id);
    const answer = windowFor(id);
    if (!answer) return sendProblem(response, host, { status: 404, type: 'urn:ietf:params:acme:error:malformed', detail: `No certificate with ARI id ${id} is known here` });
    const iso = (value: Date | string) => (typeof value === 'string' ? value : value.toISOString());
    const retryAfter = answer.retryAfter === undefined ? '21600' : answer.retryAfter;
    response.writeHead(200, { 'content-type': 'application/json', ...(retryAfter === null ? {} : { 'retry-after': retryAfter }) });
    response.end(JSON.stringify({ suggestedWindow: { start: iso(answer.start), end: iso(answer.end) }, ...(answer.explanationUrl ? { explanationURL: answer.explanationUrl } : {}) }));
  }

  function decodePayload(body: Buffer): Record<string, unknown> | null {
    try {
      const jws = JSON.parse(body.toString('utf8')) as { payload?: string };
      return jws.payload ? (JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = incoming.url ?? '/';
    const host = incoming.headers.host ?? `127.0.0.1:${port}`;
    requests.push(`${incoming.method} ${path}`);

    const injection = injections.find((candidate) => candidate.left > 0 && candidate.match(path));
    if (injection) {
      injection.left--;
      return sendProblem(response, host, injection.problem);
    }
    if (offerRenewalInfo && incoming.method === 'GET' && path.startsWith(RENEWAL_INFO_PATH)) {
      return answerRenewalInfo(response, decodeURIComponent(path.slice(RENEWAL_INFO_PATH.length)), host);
    }
    const isNewOrder = incoming.method === 'POST' && path === resources.get('newOrder');
    const payload = isNewOrder ? decodePayload(body) : null;
    if (isNewOrder && payload && typeof payload.profile === 'string' && !(profiles && payload.profile in profiles)) {
      orders.push({ at: new Date(), payload, status: 400 });
      return sendProblem(response, host, { status: 400, type: 'urn:ietf:params:acme:error:invalidProfile', detail: `Profile "${payload.profile}" is not offered by this server` });
    }
    // RFC 9773 §5: a certificate whose replacement was already issued cannot be replaced again.
    if (isNewOrder && payload && typeof payload.replaces === 'string' && replaced.has(payload.replaces)) {
      orders.push({ at: new Date(), payload, status: 409 });
      return sendProblem(response, host, { status: 409, type: 'urn:ietf:params:acme:error:alreadyReplaced', detail: `Certificate ${payload.replaces} has already been replaced` });
    }

    const answer = await toPebble(incoming.method ?? 'GET', path, incoming.headers, body.length ? body : null);
    if (isNewOrder && payload) {
      orders.push({ at: new Date(), payload, status: answer.status });
      const location = headerOf(answer.rawHeaders, 'location');
      if (location && typeof payload.replaces === 'string') replacing.set(lastSegment(location), payload.replaces);
    }
    let out = answer.body;
    const headers: string[] = [];
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) headers.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
    }
    const contentType = headerOf(answer.rawHeaders, 'content-type') ?? '';
    if (path === directoryPath && answer.status === 200) {
      const directory = JSON.parse(out.toString('utf8')) as Record<string, unknown> & { meta?: Record<string, unknown> };
      if (offerRenewalInfo) directory.renewalInfo = `https://${host}${RENEWAL_INFO_PATH.replace(/\/$/, '')}`;
      if (profiles) directory.meta = { ...directory.meta, profiles };
      out = Buffer.from(JSON.stringify(directory, null, 2));
    } else if (answer.status === 200 && contentType.startsWith('application/pem-certificate-chain')) {
      remember(out.toString('utf8'));
    } else if (answer.status === 200 && contentType.startsWith('application/json')) {
      noteValidOrder(out);
    }
    headers.push('Content-Length', String(out.length));
    response.writeHead(answer.status, headers);
    response.end(out);
  }

  /** An order (polled or finalized) that became valid has replaced the certificate it named. */
  function noteValidOrder(body: Buffer): void {
    try {
      const order = JSON.parse(body.toString('utf8')) as { status?: string; finalize?: string };
      const named = order.status === 'valid' && order.finalize ? replacing.get(lastSegment(order.finalize)) : undefined;
      if (named) replaced.add(named);
    } catch {
      // not an order
    }
  }

  function remember(chain: string): void {
    const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chain)?.[0];
    if (!leaf) return;
    const x509 = new X509Certificate(leaf);
    certificates.set(ariCertificateId(leaf), { pem: leaf, notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo) });
  }

  const server: Server = createServer({ cert, key }, (incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`acme-front: ${(error as Error).message}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const directoryUrl = `https://127.0.0.1:${port}${directoryPath}`;

  // Learn Pebble's paths through the front itself, so they carry the front's Host.
  const directory = await toPebble('GET', directoryPath, { host: `127.0.0.1:${port}` }, null);
  for (const [name, value] of Object.entries(JSON.parse(directory.body.toString('utf8')) as Record<string, unknown>)) {
    if (typeof value === 'string' && value.startsWith('https://')) resources.set(name, new URL(value).pathname);
  }
  resources.set('renewalInfo', RENEWAL_INFO_PATH);

  return {
    directoryUrl,
    port,
    apiCa: pebble.apiCa,
    renewalInfoUrl: `https://127.0.0.1:${port}${RENEWAL_INFO_PATH.replace(/\/$/, '')}`,
    orders,
    renewalInfoRequests,
    certificates,
    requests,
    setRenewalInfo(certificateId, answer) {
      windows.set(certificateId, answer);
    },
    failNext(target, problem) {
      let match: (path: string) => boolean;
      if (target instanceof RegExp) match = (path) => target.test(path);
      else {
        const known = resources.get(target);
        if (!known && !target.startsWith('/')) throw new Error(`acme-front: no directory resource "${target}" (known: ${[...resources.keys()].join(', ')})`);
        const wanted = known ?? target;
        match = wanted.endsWith('/') ? (path) => path.startsWith(wanted) : (path) => path === wanted;
      }
      injections.push({ match, problem, left: problem.times ?? 1 });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

function headerOf(rawHeaders: string[], name: string): string | null {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) return rawHeaders[i + 1]!;
  return null;
}

function lastSegment(url: string): string {
  return new URL(url).pathname.split('/').at(-1) ?? '';
}
