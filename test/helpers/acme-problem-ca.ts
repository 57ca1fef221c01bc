// A stand-in ACME server (RFC 8555) for the answers Pebble 2.4 never gives: a rate limit (429 with
// Retry-After) or changed terms (403 userActionRequired with a terms-of-service Link). It serves the
// directory, nonces and accounts as any CA would, and answers newOrder with the problem document the
// test sets. It does not check JWS signatures: it exists so acme-client meets these documents over
// real HTTPS, not to test acme-client's signing (Pebble does that).
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface ProblemAnswer {
  status: number;
  headers?: Record<string, string>;
  problem: Record<string, unknown>;
  /** A body sent instead of the problem document (an HTML error page from a proxy in front of the CA). */
  body?: string;
}

export interface FakeAcme {
  readonly directoryUrl: string;
  /** PEM of its self-signed HTTPS certificate (CN localhost, SAN 127.0.0.1). */
  readonly ca: string;
  /** What POST newOrder answers next. Default: a 500 serverInternal. */
  answerNewOrder: ProblemAnswer;
  newOrders(): number;
  close(): Promise<void>;
}

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile('openssl', args, { timeout: 60_000 }, (error, _out, stderr) => (error ? reject(new Error(`openssl failed: ${stderr}`)) : resolve())));
}

export async function startFakeAcme(): Promise<FakeAcme> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-acme-problem-ca-'));
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  const [key, cert] = await Promise.all([readFile(join(dir, 'k.pem'), 'utf8'), readFile(join(dir, 'c.pem'), 'utf8')]);
  let orders = 0;
  let base = '';
  const state: { answerNewOrder: ProblemAnswer } = { answerNewOrder: { status: 500, problem: { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'internal error', status: 500 } } };
  const server = createServer({ key, cert }, (req, res) => {
    const nonce = { 'replay-nonce': randomBytes(16).toString('base64url'), 'cache-control': 'no-store' };
    req.resume();
    req.on('end', () => {
      if (req.url === '/dir') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order`, revokeCert: `${base}/revoke`, keyChange: `${base}/key-change`, meta: { termsOfService: 'https://ca.test/terms.pdf' } }));
      } else if (req.url === '/nonce') {
        res.writeHead(req.method === 'HEAD' ? 200 : 204, nonce);
        res.end();
      } else if (req.url === '/account' && req.method === 'POST') {
        res.writeHead(201, { ...nonce, 'content-type': 'application/json', location: `${base}/acct/1` });
        res.end(JSON.stringify({ status: 'valid', contact: [], orders: `${base}/acct/1/orders` }));
      } else if (req.url === '/order' && req.method === 'POST') {
        orders++;
        const answer = state.answerNewOrder;
        res.writeHead(answer.status, { ...nonce, 'content-type': answer.body === undefined ? 'application/problem+json' : 'text/html', ...answer.headers });
        res.end(answer.body ?? JSON.stringify(answer.problem));
      } else {
        res.writeHead(404, { ...nonce, 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:malformed', detail: `no such resource ${req.url}`, status: 404 }));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    directoryUrl: `${base}/dir`,
    ca: cert,
    get answerNewOrder() {
      return state.answerNewOrder;
    },
    set answerNewOrder(answer: ProblemAnswer) {
      state.answerNewOrder = answer;
    },
    newOrders: () => orders,
    async close() {
      server.closeAllConnections();
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
