// ARI end to end against a real CA: Pebble issues a certificate over real HTTP-01 (bind9 resolves
// the name to 127.0.0.1, a tiny HTTP server on Pebble's HTTP port answers the token), the ACME front
// adds RFC 9773 renewalInfo and profiles in front of it, and Gatehouse's ARI id, fetchRenewalInfo,
// planRenewal and newOrderPayload are checked on what a client really sends and gets.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as acme from 'acme-client';
import { ariCertificateId, fetchRenewalInfo } from '../../src-main/core/certs/acme/ari.js';
import { newOrderPayload, type OrderExtras } from '../../src-main/core/certs/acme/order-extras.js';
import { planRenewal } from '../../src-main/core/certs/acme/renewal-plan.js';
import { startAcmeFront, type AcmeFront } from '../helpers/acme-front.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { openssl } from '../helpers/openssl.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';

const skip = needPebble() || needBind9();
const NAME = 'www.test.example';
const DAY = 86_400_000;

let bind: Bind9 | undefined;
let pebble: Pebble | undefined;
let front: AcmeFront;
let challengeServer: Server | undefined;
let client: acme.Client;
const tokens = new Map<string, string>();

async function issue(names: string[], extras: OrderExtras, via: acme.Client = client): Promise<string> {
  const order = await via.createOrder(newOrderPayload(names, extras));
  for (const authz of await via.getAuthorizations(order)) {
    const challenge = authz.challenges.find((candidate) => candidate.type === 'http-01')!;
    tokens.set(challenge.token, await via.getChallengeKeyAuthorization(challenge));
    await via.completeChallenge(challenge);
    await via.waitForValidStatus(challenge);
  }
  const [, csr] = await acme.crypto.createCsr({ commonName: names[0]!, altNames: names });
  const finalized = await via.finalizeOrder(order, csr);
  return via.getCertificate(finalized);
}

function leafOf(chain: string): string {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(chain)![0];
}

/** The same id computed from openssl's text output, not our DER walk. */
async function opensslAriId(pem: string, dir: string): Promise<string> {
  const file = join(dir, `leaf-${Date.now()}.pem`);
  await import('node:fs/promises').then((fs) => fs.writeFile(file, pem));
  const text = (await openssl('x509', '-in', file, '-noout', '-text')).output;
  const aki = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(text)![1]!.replace(/:/g, '');
  let serial = (await openssl('x509', '-in', file, '-noout', '-serial')).output.trim().replace(/^serial=/, '');
  if (serial.length % 2) serial = `0${serial}`;
  if (parseInt(serial.slice(0, 2), 16) & 0x80) serial = `00${serial}`;
  return `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(serial, 'hex').toString('base64url')}`;
}

before(async () => {
  if (skip) return;
  bind = await startBind9({ records: [`${NAME}. 60 IN A 127.0.0.1`, 'two.test.example. 60 IN A 127.0.0.1'] });
  pebble = await startPebble({ dnsServer: bind.address });
  front = await startAcmeFront({ pebble });
  challengeServer = createHttpServer((request, response) => {
    const token = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(request.url ?? '')?.[1];
    const answer = token ? tokens.get(token) : undefined;
    response.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'no such token');
  });
  challengeServer.listen(pebble.httpPort, '127.0.0.1');
  await once(challengeServer, 'listening');
  acme.axios.defaults.httpsAgent = new HttpsAgent({ ca: front.apiCa });
  client = new acme.Client({ directoryUrl: front.directoryUrl, accountKey: await acme.crypto.createPrivateKey() });
  await client.createAccount({ termsOfServiceAgreed: true });
});

after(async () => {
  challengeServer?.close();
  await front?.close();
  await pebble?.close();
  await bind?.close();
});

test('the front keeps the Host: Pebble’s URLs are the front’s, and it adds renewalInfo and profiles', { skip }, async () => {
  const directory = (await acme.axios.get(front.directoryUrl)).data as Record<string, unknown> & { meta: { profiles: Record<string, string> } };
  assert.equal(directory.newOrder, `https://127.0.0.1:${front.port}/order-plz`);
  assert.equal(directory.renewalInfo, front.renewalInfoUrl);
  assert.deepEqual(Object.keys(directory.meta.profiles), ['classic', 'tlsserver', 'shortlived']);
});

test('a Pebble certificate: its ARI id, the window the CA serves for it, a renewal time inside it, `replaces` on the renewal order, and no second replacement', { skip }, async () => {
  const chain = await issue([NAME], { profile: 'classic', replaces: null });
  const first = front.orders.at(-1)!;
  assert.equal(first.status, 201, 'Pebble accepts a newOrder carrying `profile`');
  assert.deepEqual(first.payload, { identifiers: [{ type: 'dns', value: NAME }], profile: 'classic' });

  const id = ariCertificateId(chain);
  assert.equal(id, await opensslAriId(leafOf(chain), pebble!.dir), 'the same id as from openssl’s reading of the AKI and serial');
  assert.ok(front.certificates.has(id));

  const now = new Date();
  const window = { start: new Date(now.getTime() + 10 * DAY), end: new Date(now.getTime() + 12 * DAY) };
  front.setRenewalInfo(id, { ...window, explanationUrl: 'https://ca.test/why', retryAfter: '3600' });
  const info = await fetchRenewalInfo(front.renewalInfoUrl, chain, { ca: front.apiCa, now });
  assert.equal(front.renewalInfoRequests.at(-1), id);
  assert.deepEqual(info.window, window);
  assert.equal(info.explanationUrl, 'https://ca.test/why');
  assert.equal(info.retryAfter.getTime(), now.getTime() + 3600_000, 'Retry-After: 3600 → ask again in an hour');

  const x509 = new (await import('node:crypto')).X509Certificate(chain);
  const facts = { notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo) };
  for (const random of [0, 0.37, 0.999]) {
    const plan = planRenewal({ facts, info, failures: 0, lastFailureAt: null, now, random });
    assert.equal(plan.source, 'ari');
    assert.ok(plan.at >= window.start.getTime() && plan.at <= window.end.getTime(), `renews inside the window (random ${random})`);
    assert.equal(plan.checkInfoAt, info.retryAfter.getTime());
  }

  const renewed = await issue([NAME], { profile: null, replaces: id });
  const second = front.orders.at(-1)!;
  assert.equal(second.status, 201);
  assert.deepEqual(second.payload, { identifiers: [{ type: 'dns', value: NAME }], replaces: id }, 'the renewal order names the certificate it replaces');
  assert.notEqual(ariCertificateId(renewed), id);

  // RFC 9773 §5: once the replacement is issued, the old certificate cannot be replaced again.
  await assert.rejects(client.createOrder(newOrderPayload([NAME], { profile: null, replaces: id })), /has already been replaced/);
  assert.equal(front.orders.at(-1)!.status, 409);
});

test('without its own window, the front answers the default one, or a window inside the life of a certificate it issued', { skip }, async () => {
  const chain = await issue(['two.test.example'], { profile: null, replaces: null });
  const now = new Date();
  const derived = await fetchRenewalInfo(front.renewalInfoUrl, chain, { ca: front.apiCa, now });
  const x509 = new (await import('node:crypto')).X509Certificate(chain);
  assert.ok(derived.window.start > new Date(x509.validFrom) && derived.window.end < new Date(x509.validTo));
  assert.equal(derived.retryAfter.getTime(), now.getTime() + 21_600_000, 'the front’s Retry-After: 21600');
});

test('Retry-After: absent → 6 h, an HTTP date, and values outside a minute..a day are clamped', { skip }, async () => {
  const chain = await issue([NAME], { profile: null, replaces: null });
  const id = ariCertificateId(chain);
  const now = new Date();
  const window = { start: new Date(now.getTime() + DAY), end: new Date(now.getTime() + 2 * DAY) };
  const cases: [string | null, number][] = [
    [null, 6 * 3600_000],
    [new Date(now.getTime() + 7200_000).toUTCString(), 7200_000],
    ['5', 60_000],
    ['999999', DAY],
  ];
  for (const [retryAfter, expected] of cases) {
    front.setRenewalInfo(id, { ...window, retryAfter });
    const info = await fetchRenewalInfo(front.renewalInfoUrl, chain, { ca: front.apiCa, now });
    assert.ok(Math.abs(info.retryAfter.getTime() - now.getTime() - expected) < 1000, `Retry-After ${retryAfter} → ${expected} ms`);
  }
});

test('a window that ends before it starts, an unknown certificate and a silent CA are refused with a sentence', { skip }, async () => {
  const chain = await issue([NAME], { profile: null, replaces: null });
  const now = new Date();
  front.setRenewalInfo(ariCertificateId(chain), { start: new Date(now.getTime() + 2 * DAY), end: new Date(now.getTime() + DAY) });
  await assert.rejects(fetchRenewalInfo(front.renewalInfoUrl, chain, { ca: front.apiCa, now }), /renewal window ends .* before it starts/);

  // Pebble's self-signed API certificate has an AKI (openssl adds one), but the front never saw it issued.
  const stranger = await readFile(pebble!.apiCaFile, 'utf8');
  await assert.rejects(fetchRenewalInfo(front.renewalInfoUrl, stranger, { ca: front.apiCa, now }), /The CA answered 404 when asked for renewal information/);

  const silent = createHttpsServer({ cert: front.apiCa, key: await readFile(join(pebble!.dir, 'k.pem'), 'utf8') }, () => undefined);
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const started = Date.now();
  try {
    await assert.rejects(
      fetchRenewalInfo(`https://127.0.0.1:${(silent.address() as { port: number }).port}/renewal-info`, chain, { ca: front.apiCa, now, timeoutMs: 500 }),
      /no answer within 0.5 s/,
    );
    assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test('injected problems: 403 userActionRequired with a terms Link, a 429 acme-client waits out, and an unknown profile', { skip }, async () => {
  front.failNext('newOrder', {
    status: 403,
    type: 'urn:ietf:params:acme:error:userActionRequired',
    detail: 'Terms of service have changed',
    headers: { link: '<https://ca.test/terms-v2>;rel="terms-of-service"' },
  });
  const payload = newOrderPayload([NAME], { profile: null, replaces: null });
  await assert.rejects(client.createOrder(payload), /Terms of service have changed/);
  // Pebble may hand back an earlier valid authorization, so a new order is pending or already ready.
  assert.match((await client.createOrder(payload)).status, /^(pending|ready)$/, 'one request used the injection up');

  front.failNext('newOrder', { status: 429, type: 'urn:ietf:params:acme:error:rateLimited', detail: 'Too many new orders', headers: { 'retry-after': '1' } });
  const started = Date.now();
  const order = await client.createOrder(payload);
  assert.match(order.status, /^(pending|ready)$/);
  assert.ok(Date.now() - started >= 900, 'acme-client slept the Retry-After second itself, then sent the order again');

  await assert.rejects(client.createOrder(newOrderPayload([NAME], { profile: 'nonsense', replaces: null })), /Profile "nonsense" is not offered/);
  assert.equal(front.orders.at(-1)!.status, 400);
});

test('Pebble with a 6-day validity: the certificate lives 6 days and is renewed on day 4', { skip }, async (t) => {
  const short = await startPebble({ dnsServer: bind!.address, httpPort: pebble!.httpPort, validitySeconds: 6 * 86_400, env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
  t.after(() => short.close());
  const shortFront = await startAcmeFront({ pebble: short });
  t.after(() => shortFront.close());
  // Same CA file name, new content: this Pebble made its own API certificate.
  const previous = acme.axios.defaults.httpsAgent;
  acme.axios.defaults.httpsAgent = new HttpsAgent({ ca: short.apiCa });
  t.after(() => (acme.axios.defaults.httpsAgent = previous));
  const shortClient = new acme.Client({ directoryUrl: shortFront.directoryUrl, accountKey: await acme.crypto.createPrivateKey() });
  await shortClient.createAccount({ termsOfServiceAgreed: true });
  const chain = await issue([NAME], { profile: 'shortlived', replaces: null }, shortClient);
  const x509 = new (await import('node:crypto')).X509Certificate(chain);
  const facts = { notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo) };
  const life = facts.notAfter.getTime() - facts.notBefore.getTime();
  assert.ok(Math.abs(life - 6 * DAY) < 2000, `lifetime ${life} ms`);
  const plan = planRenewal({ facts, info: null, failures: 0, lastFailureAt: null, now: facts.notBefore, timeZone: 'UTC' });
  assert.ok(Math.abs(plan.at - (facts.notBefore.getTime() + 4 * DAY)) < 1000);
  assert.match(plan.reason, /^Two thirds into its 6-day life/);
});
