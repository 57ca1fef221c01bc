// Each failure class met for real: acme-client ordering from Pebble, which resolves through bind9
// and fetches HTTP-01 from real sockets, and the error turned into one sentence by acmeProblemOf.
// What Pebble 2.4 cannot produce (rate limits, changed terms) comes from a small local HTTPS server
// that answers the ACME endpoints with RFC 8555 problem documents, so acme-client meets them too.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import acme from 'acme-client';
import type { AcmeProblem } from '../../shared/acme.js';
import { captureAcmeExchange } from '../../src-main/core/certs/acme/problem-capture.js';
import { acmeProblemOf, type FailureContext } from '../../src-main/core/certs/acme/problems.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { startFakeAcme, type FakeAcme } from '../helpers/acme-problem-ca.js';

const skip = needBind9() || needPebble();
const EAB = { kid: 'kid-1', hmacKey: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' };

let bind: Bind9;
let pebble: Pebble;
let eabPebble: Pebble;
let fake: FakeAcme;
let other: Server;
const savedAgent = acme.axios.defaults.httpsAgent as unknown;

before(async () => {
  if (skip) return;
  bind = await startBind9({
    records: ['other.test.example. 60 IN A 127.0.0.1', 'closed.test.example. 60 IN A 127.0.0.2', 'txt.test.example. 60 IN A 127.0.0.1', 'caa.test.example. 60 IN A 127.0.0.1'],
  });
  await bind.update('test.example', ['update add caa.test.example. 60 CAA 0 issue "sectigo.com"']);
  // "Another server" on the port Pebble fetches HTTP-01 from: a plain 404, as a NAS's web UI would.
  other = createServer((_req, res) => {
    res.writeHead(404, { server: 'nginx/1.24.0' });
    res.end('not found');
  });
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  const otherPort = (other.address() as AddressInfo).port;
  pebble = await startPebble({ dnsServer: bind.address, httpPort: otherPort });
  eabPebble = await startPebble({ dnsServer: bind.address, eab: { [EAB.kid]: EAB.hmacKey } });
  fake = await startFakeAcme();
  // Pebble's and the fake CA's own HTTPS certificates, trusted for acme-client's requests only.
  acme.axios.defaults.httpsAgent = new HttpsAgent({ ca: [pebble.apiCa, eabPebble.apiCa, fake.ca] });
});

after(async () => {
  if (skip) return;
  acme.axios.defaults.httpsAgent = savedAgent;
  other?.close();
  await fake?.close();
  await pebble?.close();
  await eabPebble?.close();
  await bind?.close();
});

async function client(directoryUrl: string, eab?: { kid: string; hmacKey: string }): Promise<acme.Client> {
  return new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateKey(), ...(eab ? { externalAccountBinding: eab } : {}), backoffAttempts: 3, backoffMin: 100, backoffMax: 500 });
}

/** Orders `name` through client.auto with `challenge`; returns the failure as acmeProblemOf says it. */
async function orderFails(acmeClient: acme.Client, name: string, challenge: 'http-01' | 'dns-01', directoryUrl: string, txt?: (keyAuthorization: string) => string): Promise<AcmeProblem> {
  const context: FailureContext = { names: [name], challenge, directoryUrl, caName: 'Pebble' };
  const [, csr] = await acme.crypto.createCsr({ commonName: name });
  try {
    await captureAcmeExchange(() =>
      acmeClient.auto({
        csr,
        termsOfServiceAgreed: true,
        challengePriority: [challenge],
        skipChallengeVerification: true,
        challengeCreateFn: async (authz, _challenge, keyAuthorization) => {
          if (challenge === 'dns-01') await bind.update('test.example', [`update add _acme-challenge.${authz.identifier.value}. 60 TXT "${txt ? txt(keyAuthorization) : keyAuthorization}"`]);
        },
        challengeRemoveFn: async (authz) => {
          if (challenge === 'dns-01') await bind.update('test.example', [`update delete _acme-challenge.${authz.identifier.value}. TXT`]);
        },
      }),
    );
  } catch (error) {
    return acmeProblemOf(error, context);
  }
  throw new Error(`the order for ${name} did not fail`);
}

test('HTTP-01 to an address where nothing listens: port_closed', { skip }, async () => {
  const problem = await orderFails(await client(pebble.directoryUrl), 'closed.test.example', 'http-01', pebble.directoryUrl);
  assert.equal(problem.code, 'port_closed', JSON.stringify(problem));
  assert.equal(problem.message, `Pebble could not connect to port ${pebble.httpPort} on 127.0.0.2 for closed.test.example: nothing accepted the connection.`);
  assert.match(problem.fix!, new RegExp(`^Forward port ${pebble.httpPort} on your router to this machine`));
  assert.match(problem.details!, /urn:ietf:params:acme:error:connection/);
});

test('HTTP-01 answered by another server with 404: other_server', { skip }, async () => {
  const problem = await orderFails(await client(pebble.directoryUrl), 'other.test.example', 'http-01', pebble.directoryUrl);
  assert.equal(problem.code, 'other_server', JSON.stringify(problem));
  assert.match(problem.message, /^Another server answered Pebble.* for other\.test\.example \(HTTP 404\), not Gatehouse\.$/);
  assert.match(problem.details!, /"type":"urn:ietf:params:acme:error:unauthorized"/);
});

test('DNS-01 with a wrong TXT value: record_not_visible', { skip }, async () => {
  const problem = await orderFails(await client(pebble.directoryUrl), 'txt.test.example', 'dns-01', pebble.directoryUrl, () => 'not-the-key-authorization');
  assert.equal(problem.code, 'record_not_visible', JSON.stringify(problem));
  assert.equal(problem.message, 'Pebble did not see the right TXT record at _acme-challenge.txt.test.example.');
});

test('a name that does not exist: name_not_found', { skip }, async () => {
  const problem = await orderFails(await client(pebble.directoryUrl), 'missing.test.example', 'http-01', pebble.directoryUrl);
  assert.equal(problem.code, 'name_not_found', JSON.stringify(problem));
  assert.equal(problem.message, 'missing.test.example does not exist in public DNS, so Pebble cannot check it.');
});

test('CAA forbidding the CA: Pebble 2.4 does not check CAA, so the order is issued', { skip }, async () => {
  const acmeClient = await client(pebble.directoryUrl);
  const [, csr] = await acme.crypto.createCsr({ commonName: 'caa.test.example' });
  assert.deepEqual(await bind.dig('caa.test.example', 'CAA'), ['0 issue "sectigo.com"']);
  const certificate = await acmeClient.auto({
    csr,
    termsOfServiceAgreed: true,
    challengePriority: ['dns-01'],
    skipChallengeVerification: true,
    challengeCreateFn: async (_a, _c, keyAuthorization) => bind.update('test.example', [`update add _acme-challenge.caa.test.example. 60 TXT "${keyAuthorization}"`]),
    challengeRemoveFn: async () => bind.update('test.example', ['update delete _acme-challenge.caa.test.example. TXT']),
  });
  // Pebble ignores CAA (its README: "Pebble does not check CAA"), which is why the pre-flight checks it;
  // the classification of a CA's caa problem is covered on a captured Let's Encrypt document (unit test).
  assert.match(certificate, /BEGIN CERTIFICATE/);
});

test('EAB missing and EAB with a wrong HMAC key: eab_rejected', { skip }, async () => {
  const context: FailureContext = { names: ['www.test.example'], challenge: 'http-01', directoryUrl: eabPebble.directoryUrl, caName: 'Pebble' };
  const without = await client(eabPebble.directoryUrl);
  const missing = await captureAcmeExchange(() => without.createAccount({ termsOfServiceAgreed: true })).then(
    () => assert.fail('an account without EAB was made'),
    (error: unknown) => acmeProblemOf(error, context),
  );
  assert.equal(missing.code, 'eab_rejected', JSON.stringify(missing));
  assert.equal(missing.message, 'Pebble needs External Account Binding, and this account has none.');
  const wrong = await client(eabPebble.directoryUrl, { kid: EAB.kid, hmacKey: 'b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH' });
  const rejected = await captureAcmeExchange(() => wrong.createAccount({ termsOfServiceAgreed: true })).then(
    () => assert.fail('an account with a wrong EAB key was made'),
    (error: unknown) => acmeProblemOf(error, context),
  );
  assert.equal(rejected.code, 'eab_rejected', JSON.stringify(rejected));
  assert.equal(rejected.message, "Pebble rejected this account's External Account Binding (its key id or HMAC key).");
});

test('a directory on a closed port: ca_unreachable, at once rather than after acme-client\'s 75 s of retries', { skip }, async () => {
  const directoryUrl = `https://127.0.0.1:${await freePort()}/dir`;
  const started = Date.now();
  const acmeClient = await client(directoryUrl);
  const problem = await captureAcmeExchange(() => acmeClient.createAccount({ termsOfServiceAgreed: true })).then(
    () => assert.fail('reached a closed port'),
    (error: unknown) => acmeProblemOf(error, { names: ['www.test.example'], challenge: 'http-01', directoryUrl }),
  );
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  assert.equal(problem.code, 'ca_unreachable', JSON.stringify(problem));
  assert.equal(problem.message, `Gatehouse could not reach the CA at 127.0.0.1:${new URL(directoryUrl).port} at ${directoryUrl}: the connection was refused.`);
  assert.match(problem.details!, /ECONNREFUSED/);
});

test('rate limited: the Retry-After becomes retryAt, and acme-client does not sleep through it', { skip }, async () => {
  fake.answerNewOrder = { status: 429, headers: { 'retry-after': '3600' }, problem: { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s, retry after 2026-12-07 10:00:00 UTC: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-hostnames', status: 429 } };
  const acmeClient = await client(fake.directoryUrl);
  const started = Date.now();
  const now = new Date();
  const problem = await captureAcmeExchange(async () => {
    await acmeClient.createAccount({ termsOfServiceAgreed: true });
    await acmeClient.createOrder({ identifiers: [{ type: 'dns', value: 'www.test.example' }] });
  }).then(
    () => assert.fail('the order was taken'),
    (error: unknown) => acmeProblemOf(error, { names: ['www.test.example'], challenge: 'http-01', directoryUrl: fake.directoryUrl, caName: "Let's Encrypt", now }),
  );
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  assert.equal(problem.code, 'rate_limited', JSON.stringify(problem));
  assert.equal(problem.message, "Let's Encrypt is refusing new certificates for www.test.example for now: too many were asked for recently.");
  assert.equal(problem.retryAt, new Date(now.getTime() + 3_600_000).toISOString());
  assert.equal(fake.newOrders(), 1, 'asked once, not five times');
});

test('terms changed: userActionRequired with the new terms from the Link header', { skip }, async () => {
  fake.answerNewOrder = { status: 403, headers: { link: '<https://ca.test/terms-2027.pdf>;rel="terms-of-service"' }, problem: { type: 'urn:ietf:params:acme:error:userActionRequired', detail: 'Terms of service have changed', instance: 'https://ca.test/agree', status: 403 } };
  const acmeClient = await client(fake.directoryUrl);
  const problem = await captureAcmeExchange(async () => {
    await acmeClient.createAccount({ termsOfServiceAgreed: true });
    await acmeClient.createOrder({ identifiers: [{ type: 'dns', value: 'www.test.example' }] });
  }).then(
    () => assert.fail('the order was taken'),
    (error: unknown) => acmeProblemOf(error, { names: ['www.test.example'], challenge: 'http-01', directoryUrl: fake.directoryUrl, caName: "Let's Encrypt" }),
  );
  assert.equal(problem.code, 'terms_changed', JSON.stringify(problem));
  assert.equal(problem.fix, 'Read the new terms at https://ca.test/terms-2027.pdf and accept them for this account on the Certificates page.');
});

test('a 503 HTML page from a proxy in front of the CA: ca_error at once, not after acme-client\'s 75 s of retries', { skip }, async () => {
  fake.answerNewOrder = { status: 503, problem: {}, body: '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>' };
  const acmeClient = await client(fake.directoryUrl);
  const before = fake.newOrders();
  const started = Date.now();
  const problem = await captureAcmeExchange(async () => {
    await acmeClient.createAccount({ termsOfServiceAgreed: true });
    await acmeClient.createOrder({ identifiers: [{ type: 'dns', value: 'www.test.example' }] });
  }).then(
    () => assert.fail('the order was taken'),
    (error: unknown) => acmeProblemOf(error, { names: ['www.test.example'], challenge: 'http-01', directoryUrl: fake.directoryUrl, caName: "Let's Encrypt" }),
  );
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  assert.equal(fake.newOrders() - before, 1);
  assert.equal(problem.code, 'ca_error', JSON.stringify(problem));
  assert.equal(problem.message, "Let's Encrypt failed on its side while handling the order for www.test.example.");
  assert.match(problem.details!, /^HTTP 503 from POST https:\/\/127\.0\.0\.1:\d+\/order/);
});
