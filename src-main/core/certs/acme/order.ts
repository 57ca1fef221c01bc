// One ACME order, start to finish (RFC 8555 §7.4): a new key and CSR, newOrder with Gatehouse's
// extras (profile, ARI `replaces`: order-extras.ts), each authorization's challenge answered
// (HTTP-01 through the proxy's challenge store, DNS-01 through a DNS provider), the CA polled,
// the order finalized and the chain downloaded. Every token and TXT record is removed again,
// whatever happens (finally). acme-client's own challenge check is never used: it asks public DNS
// from this machine, which says nothing about what the CA sees (the pre-flight does that properly).
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { Client } from 'acme-client';
import { loadAcme } from './acme-library.js';
import type { RouteAcme } from '../../../../shared/acme.js';
import type { StoredPair } from '../certificate-files.js';
import { AcmeCaError, pollUntil, postResource, postUrl, type CaProblemDocument } from './ca-requests.js';
import type { ChallengeStore } from './challenge-store.js';
import { waitForTxt } from './dns/propagation.js';
import type { DnsChallengeProvider, TxtRecord } from './dns/provider.js';
import { newOrderPayload } from './order-extras.js';

const generate = promisify(generateKeyPair);

export interface OrderInput {
  client: Client;
  names: readonly string[];
  acme: RouteAcme;
  /** The ARI id of the certificate this order replaces; null for a first order. */
  replaces: string | null;
  challenges: ChallengeStore;
  /** The DNS provider for dns-01 (with how long to wait for the record to be seen, ms). */
  dns: (() => Promise<OrderDns>) | null;
  signal: AbortSignal;
}

export interface OrderDns {
  provider: DnsChallengeProvider;
  propagationTimeoutMs: number;
  /** Servers the propagation wait asks; undefined: the zone's authoritative servers. */
  resolvers: readonly string[] | undefined;
}

interface Order {
  status: string;
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: CaProblemDocument;
}

interface Authorization {
  status: string;
  identifier: { type: string; value: string };
  wildcard?: boolean;
  challenges: { type: string; url: string; token: string; status: string; error?: CaProblemDocument }[];
}

async function certificateKey(keyType: RouteAcme['keyType']): Promise<string> {
  const pair =
    keyType === 'rsa-2048'
      ? await generate('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
      : await generate('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return pair.privateKey;
}

/** Runs the whole order; resolves with the new key and the chain (leaf first), PEM. */
export async function runOrder(input: OrderInput): Promise<StoredPair> {
  const { client, names, signal } = input;
  const created = await postResource(client, 'creating the order', 'newOrder', newOrderPayload(names, { profile: input.acme.profile, replaces: input.replaces }), [201]);
  const orderUrl = created.headers.location;
  if (!orderUrl) throw new AcmeCaError('creating the order', { detail: 'the CA answered without the order URL (no Location header)' }, created.status, null);
  let order = created.data as Order;

  // Asked once; its failure (no credentials…) only counts when a name still needs its record.
  const dnsOnce = input.acme.challenge === 'dns-01' && input.dns ? input.dns() : null;
  const dns = dnsOnce ? () => dnsOnce : null;
  if ((await dnsOnce?.catch(() => null))?.provider.oneRecordAtATime) {
    // One TXT value at a time (DuckDNS): a wildcard and its apex share the record, so each name is
    // presented, validated and cleaned up before the next one's value replaces it.
    for (const authorizationUrl of order.authorizations) await answerWithCleanup(input, dns, [authorizationUrl]);
  } else {
    // All names at once: each signed request takes its own nonce, and the CA validates them in parallel.
    await answerWithCleanup(input, dns, order.authorizations);
  }

  const privateKeyPem = await certificateKey(input.acme.keyType);
  const commonName = names.find((name) => name.length <= 64);
  const acme = await loadAcme();
  const [, csr] = await acme.crypto.createCsr({ altNames: [...names], ...(commonName ? { commonName } : {}) }, privateKeyPem);
  order = await pollUntil<Order>(client, 'waiting for the order to be ready', orderUrl, (body) => orderSettled(body, ['ready', 'valid']), signal);
  if (order.status !== 'valid') {
    const finalized = await postUrl(client, 'finalizing the order', order.finalize, { csr: acme.crypto.getPemBodyAsB64u(csr) }, [200]);
    order = finalized.data as Order;
    if (order.status !== 'valid') order = await pollUntil<Order>(client, 'waiting for the certificate', orderUrl, (body) => orderSettled(body, ['valid']), signal);
  }
  if (!order.certificate) throw new AcmeCaError('downloading the certificate', { detail: 'the valid order names no certificate URL' }, 0, null);
  const downloaded = await postUrl(client, 'downloading the certificate', order.certificate, null, [200]);
  return { certificatePem: String(downloaded.data), privateKeyPem };
}

/** Answers these authorizations at once; their tokens and records are removed again whatever happens. */
async function answerWithCleanup(input: OrderInput, dns: (() => Promise<OrderDns>) | null, urls: readonly string[]): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    // Settled, not Promise.all: every name's token or record must be in `cleanups` before they run.
    const answered = await Promise.allSettled(urls.map((authorizationUrl) => answerAuthorization(input, dns, authorizationUrl, cleanups)));
    const failed = answered.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    // Tokens and records go as soon as the CA has decided (or the order failed); a failing cleanup does not hide the order's own result.
    await Promise.all(cleanups.map((cleanup) => cleanup().catch(() => undefined)));
  }
}

function orderSettled(order: Order, wanted: readonly string[]): boolean {
  if (order.status === 'invalid') throw new AcmeCaError('the order', order.error ?? { detail: 'the CA marked the order invalid' }, 0, null);
  return wanted.includes(order.status);
}

async function answerAuthorization(input: OrderInput, dns: (() => Promise<OrderDns>) | null, url: string, cleanups: (() => Promise<void>)[]): Promise<void> {
  const { client, signal } = input;
  const authorization = (await postUrl(client, 'reading the authorization', url, null)).data as Authorization;
  if (authorization.status === 'valid') return; // the CA still trusts an earlier validation of this name
  const name = authorization.identifier.value;
  const type = input.acme.challenge;
  const challenge = authorization.challenges.find((candidate) => candidate.type === type);
  if (!challenge) {
    const offered = authorization.challenges.map((candidate) => candidate.type).join(', ');
    throw new AcmeCaError(`validating ${name}`, { type: 'urn:ietf:params:acme:error:unsupportedChallenge', detail: `the CA offers ${offered} for ${name}, not ${type}` }, 0, null);
  }
  const keyAuthorization = await client.getChallengeKeyAuthorization(challenge as Parameters<Client['getChallengeKeyAuthorization']>[0]);
  if (type === 'http-01') {
    const remove = input.challenges.add(challenge.token, keyAuthorization);
    cleanups.push(async () => remove());
  } else {
    if (!dns) throw new Error('the DNS challenge needs a DNS provider');
    const { provider, propagationTimeoutMs, resolvers } = await dns();
    const base = name.replace(/^\*\./, '');
    const record: TxtRecord = { name: base, fqdn: `_acme-challenge.${base}`, value: keyAuthorization };
    cleanups.push(() => provider.cleanup(record));
    await provider.present(record);
    // The zone's own servers (or the resolvers given) must show the record before the CA looks: a
    // record not visible yet is a record_not_visible sentence now, not a failed validation that
    // counts against the CA's limits.
    await waitForTxt(provider.lookupName(record), keyAuthorization, { timeoutMs: propagationTimeoutMs, ...(resolvers ? { resolvers } : {}), signal });
  }
  await postUrl(client, `asking the CA to validate ${name}`, challenge.url, {}, [200]);
  await pollUntil<Authorization>(client, `validating ${name}`, url, (body) => {
    if (body.status === 'invalid') {
      const failed = body.challenges.find((candidate) => candidate.error)?.error ?? { detail: `the CA could not validate ${name}` };
      throw new AcmeCaError(`validating ${name}`, failed, 0, null);
    }
    return body.status === 'valid';
  }, signal);
}
