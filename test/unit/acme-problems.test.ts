// acmeProblemOf on problem documents as CAs send them: Pebble 2.4's, captured from the runs in
// test/integration/acme-errors.test.ts, and Let's Encrypt's (Boulder's detail formats: "DNS problem:
// %s looking up %s for %s", "CAA record for %s prevents issuance", "Timeout during connect (likely
// firewall problem)", "too many certificates … retry after …"). Each is passed the way the service
// meets it: a challenge's `error` object as is, or acme-client's Error(detail) with nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { acmeProblemOf, retryAtOf, type FailureContext } from '../../src-main/core/certs/acme/problems.js';
import { caaAllows, caaDomain } from '../../src-main/core/certs/acme/preflight/caa.js';
import { isPubliclyReachable } from '../../src-main/core/certs/acme/preflight/reachable.js';

const le: FailureContext = { names: ['jellyfin.example.com'], challenge: 'http-01', directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' };
const pebble: FailureContext = { names: ['closed.test.example'], challenge: 'http-01', directoryUrl: 'https://127.0.0.1:14000/dir' };

const captured = {
  pebbleRefused: { type: 'urn:ietf:params:acme:error:connection', detail: 'Get "http://closed.test.example:45215/.well-known/acme-challenge/hE334ugqMxsE0vj1omt1Pz6EMvSnq2_db4Qo_twuGU8": dial tcp 127.0.0.2:45215: connect: connection refused', status: 400 },
  pebble404: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'Non-200 status code from HTTP: http://other.test.example:45215/.well-known/acme-challenge/uVAeGC4Q80aOcKw4NCeZtUzL69-aQoDltvoWGrxMMck returned 404', status: 403 },
  pebbleTxt: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'Correct value not found for DNS challenge', status: 403 },
  pebbleNoName: { type: 'urn:ietf:params:acme:error:connection', detail: 'Get "http://missing.test.example:45215/.well-known/acme-challenge/jxUMJ_Xs5fZWJ2812yLRl95ZRiylRML1wRoUqkWQyoY": could not resolve URL "http://missing.test.example:45215/.well-known/acme-challenge/jxUMJ_Xs5fZWJ2812yLRl95ZRiylRML1wRoUqkWQyoY"', status: 400 },
  pebbleEabMissing: { type: 'urn:ietf:params:acme:error:externalAccountRequired', detail: "ACME server policy requires newAccount requests must include a value for the 'externalAccountBinding' field", status: 403 },
  pebbleEabWrong: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'external account binding JWS verification error: square/go-jose: error in cryptographic primitive', status: 403 },
  leNxdomain: { type: 'urn:ietf:params:acme:error:dns', detail: 'DNS problem: NXDOMAIN looking up A for jellyfin.example.com - check that a DNS record exists for this domain', status: 400 },
  leServfail: { type: 'urn:ietf:params:acme:error:dns', detail: "DNS problem: SERVFAIL looking up CAA for example.com - the domain's nameservers may be malfunctioning", status: 400 },
  leTimeout: { type: 'urn:ietf:params:acme:error:connection', detail: '203.0.113.7: Fetching http://jellyfin.example.com/.well-known/acme-challenge/abc: Timeout during connect (likely firewall problem)', status: 400 },
  leRefused: { type: 'urn:ietf:params:acme:error:connection', detail: '203.0.113.7: Fetching http://jellyfin.example.com/.well-known/acme-challenge/abc: Connection refused', status: 400 },
  le404: { type: 'urn:ietf:params:acme:error:unauthorized', detail: '203.0.113.7: Invalid response from http://jellyfin.example.com/.well-known/acme-challenge/abc: 404', status: 403 },
  leTxt: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'Incorrect TXT record "wrong" found at _acme-challenge.jellyfin.example.com', status: 403 },
  leCaa: { type: 'urn:ietf:params:acme:error:caa', detail: 'CAA record for jellyfin.example.com prevents issuance', status: 403 },
  leRate: { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s, retry after 2026-12-08 09:30:00 UTC: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-hostnames', status: 429 },
  leRejected: {
    type: 'urn:ietf:params:acme:error:rejectedIdentifier',
    detail: 'Error creating new order :: Cannot issue for "nas.lan": Domain name does not end with a valid public suffix (TLD)',
    status: 400,
    subproblems: [{ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'Domain name does not end with a valid public suffix (TLD)', identifier: { type: 'dns', value: 'nas.lan' } }],
  },
  leCompound: {
    type: 'urn:ietf:params:acme:error:compound',
    detail: 'Error creating new order :: Cannot issue for 2 identifiers',
    status: 400,
    subproblems: [{ type: 'urn:ietf:params:acme:error:caa', detail: 'CAA record for media.example.com prevents issuance', identifier: { type: 'dns', value: 'media.example.com' } }],
  },
  leInternal: { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'Error finalizing order', status: 500 },
};

test('Pebble\'s captured documents: port_closed with the port it dialled, other_server, record_not_visible, name_not_found, eab_rejected', () => {
  const refused = acmeProblemOf(captured.pebbleRefused, pebble);
  assert.equal(refused.code, 'port_closed');
  assert.equal(refused.message, 'the CA at 127.0.0.1:14000 could not connect to port 45215 on 127.0.0.2 for closed.test.example: nothing accepted the connection.');
  assert.equal(refused.details, JSON.stringify(captured.pebbleRefused));
  assert.equal(acmeProblemOf(captured.pebble404, { ...pebble, names: ['other.test.example'] }).code, 'other_server');
  assert.equal(acmeProblemOf(captured.pebbleTxt, { ...pebble, names: ['txt.test.example'], challenge: 'dns-01' }).code, 'record_not_visible');
  assert.equal(acmeProblemOf(captured.pebbleNoName, { ...pebble, names: ['missing.test.example'] }).code, 'name_not_found');
  assert.equal(acmeProblemOf(captured.pebbleEabMissing, pebble).code, 'eab_rejected');
  assert.equal(acmeProblemOf(captured.pebbleEabWrong, pebble).code, 'eab_rejected');
});

test('Let\'s Encrypt\'s documents, each one sentence for this name', () => {
  const cases: [keyof typeof captured, string, string][] = [
    ['leNxdomain', 'name_not_found', "jellyfin.example.com does not exist in public DNS, so Let's Encrypt cannot check it."],
    ['leServfail', 'dns_elsewhere', "Let's Encrypt asked jellyfin.example.com's name servers and got SERVFAIL, so it could not check the name."],
    ['leTimeout', 'port_closed', "Let's Encrypt got no answer from port 80 on 203.0.113.7 for jellyfin.example.com (likely a firewall)."],
    ['leRefused', 'port_closed', "Let's Encrypt could not connect to port 80 on 203.0.113.7 for jellyfin.example.com: nothing accepted the connection."],
    ['le404', 'other_server', "Another server answered Let's Encrypt at 203.0.113.7 for jellyfin.example.com (HTTP 404), not Gatehouse."],
    ['leCaa', 'caa_forbids', "jellyfin.example.com's CAA records do not allow Let's Encrypt to issue for it."],
    ['leInternal', 'ca_error', "Let's Encrypt failed on its side while handling the order for jellyfin.example.com."],
  ];
  for (const [doc, code, message] of cases) {
    const problem = acmeProblemOf(captured[doc], le);
    assert.equal(problem.code, code, doc);
    assert.equal(problem.message, message, doc);
    assert.ok(problem.fix && problem.fix.length > 10, `${doc} has a fix`);
    assert.equal(problem.details, JSON.stringify(captured[doc]));
  }
  const txt = acmeProblemOf(captured.leTxt, { ...le, challenge: 'dns-01' });
  assert.equal(txt.code, 'record_not_visible');
  assert.equal(txt.message, "Let's Encrypt did not see the right TXT record at _acme-challenge.jellyfin.example.com.");
});

test('rate limits: retryAt from the detail when no Retry-After header came', () => {
  const problem = acmeProblemOf(captured.leRate, le);
  assert.equal(problem.code, 'rate_limited');
  assert.equal(problem.retryAt, '2026-12-08T09:30:00.000Z');
  assert.match(problem.fix!, /^Wait until 2026-12-08 09:30:00 UTC; Gatehouse tries again then\./);
  const now = new Date('2026-12-06T10:00:00Z');
  assert.equal(retryAtOf('120', '', now), '2026-12-06T10:02:00.000Z');
  assert.equal(retryAtOf('Tue, 08 Dec 2026 09:30:00 GMT', '', now), '2026-12-08T09:30:00.000Z');
  assert.equal(retryAtOf(null, 'no time here', now), null);
});

test('rejected and compound orders name the failing identifier from the subproblem', () => {
  const rejected = acmeProblemOf(captured.leRejected, { ...le, names: ['nas.lan'] });
  assert.equal(rejected.code, 'name_rejected');
  assert.equal(rejected.message, "Let's Encrypt will not issue a certificate for nas.lan: it is not a public domain name.");
  const compound = acmeProblemOf(captured.leCompound, { ...le, names: ['www.example.com', 'media.example.com'] });
  assert.equal(compound.code, 'caa_forbids');
  assert.match(compound.message, /^media\.example\.com's CAA records/);
});

test('acme-client\'s Error(detail) alone, with nothing captured, is still classified by its text', () => {
  for (const [doc, code] of [['leNxdomain', 'name_not_found'], ['leRate', 'rate_limited'], ['leCaa', 'caa_forbids'], ['pebbleTxt', 'record_not_visible'], ['pebbleRefused', 'port_closed'], ['pebbleEabMissing', 'eab_rejected']] as const) {
    const context = doc === 'pebbleTxt' ? { ...le, challenge: 'dns-01' as const } : le;
    assert.equal(acmeProblemOf(new Error(captured[doc].detail), context).code, code, doc);
  }
  assert.equal(acmeProblemOf(new Error(captured.leRate.detail), le).retryAt, '2026-12-08T09:30:00.000Z');
});

test('network errors to the directory: ca_unreachable with the cause', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:14000'), { code: 'ECONNREFUSED' });
  assert.equal(acmeProblemOf(refused, pebble).message, 'Gatehouse could not reach the CA at 127.0.0.1:14000 at https://127.0.0.1:14000/dir: the connection was refused.');
  const untrusted = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  const problem = acmeProblemOf(untrusted, pebble);
  assert.equal(problem.code, 'ca_unreachable');
  assert.match(problem.message, /its HTTPS certificate is not trusted here\.$/);
  const wrongUrl = acmeProblemOf(new Error('Attempting to read ACME directory returned error 404: https://127.0.0.1:14000/dir'), pebble);
  assert.equal(wrongUrl.code, 'ca_unreachable');
  assert.match(wrongUrl.message, /answered HTTP 404, not an ACME directory/);
  // acme-client without captureAcmeExchange: its interceptor's TypeError after the network retries.
  assert.equal(acmeProblemOf(new TypeError("Cannot read properties of undefined (reading 'config')"), pebble).code, 'ca_unreachable');
});

test('DNS provider failures: the provider\'s own sentence, and the DNS helper\'s plain sentences as a fallback', () => {
  const dns: FailureContext = { ...le, challenge: 'dns-01', dnsProviderLabel: 'Cloudflare' };
  const thrown = new DnsProviderError('credentials_rejected', 'Cloudflare refused the API token for example.com.', 'Create a token with Zone › DNS › Edit on example.com.', '{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}');
  const byClass = acmeProblemOf(thrown, dns);
  assert.equal(byClass.code, 'credentials_rejected');
  assert.equal(byClass.message, 'Cloudflare refused the API token for example.com.');
  assert.equal(byClass.fix, 'Create a token with Zone › DNS › Edit on example.com.');
  assert.equal(byClass.details, '{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}');
  const byText = acmeProblemOf(new Error('The DNS provider rejected the API token (401 Unauthorized) while adding the TXT record for jellyfin.example.com.'), dns);
  assert.equal(byText.code, 'credentials_rejected');
  const unreachable = acmeProblemOf(new Error('connect ETIMEDOUT 10.0.0.2:53 while adding the TXT record (DNS provider could not reach)'), dns);
  assert.ok(['dns_provider_unreachable', 'ca_unreachable'].includes(unreachable.code), unreachable.code);
});

test('anything else is internal, with the raw error behind details only', () => {
  const problem = acmeProblemOf(new TypeError("Cannot read properties of undefined (reading 'foo')"), le);
  assert.equal(problem.code, 'internal');
  assert.equal(problem.message, 'The certificate order for jellyfin.example.com failed in a way Gatehouse does not recognise.');
  assert.match(problem.details!, /Cannot read properties/);
});

test('CAA rules (RFC 8659): issue vs issuewild, parameters, empty issue, critical unknown tags', () => {
  const ids = ['letsencrypt.org'];
  assert.equal(caaDomain('letsencrypt.org; validationmethods=dns-01'), 'letsencrypt.org');
  assert.deepEqual(caaAllows([], ids, false), { allowed: true, reason: 'none' });
  assert.equal(caaAllows([{ critical: 0, tag: 'issue', value: 'LetsEncrypt.org' }], ids, false).allowed, true);
  assert.equal(caaAllows([{ critical: 0, tag: 'issue', value: ';' }], ids, false).allowed, false);
  assert.equal(caaAllows([{ critical: 0, tag: 'iodef', value: 'mailto:a@b.c' }], ids, false).allowed, true);
  // issuewild present: it alone decides for a wildcard; without it, issue does.
  const both = [{ critical: 0, tag: 'issue', value: 'letsencrypt.org' }, { critical: 0, tag: 'issuewild', value: 'sectigo.com' }];
  assert.equal(caaAllows(both, ids, false).allowed, true);
  assert.deepEqual(caaAllows(both, ids, true), { allowed: false, reason: 'not-listed', allows: ['sectigo.com'], tag: 'issuewild' });
  assert.equal(caaAllows([{ critical: 0, tag: 'issue', value: 'letsencrypt.org' }], ids, true).allowed, true);
  assert.equal(caaAllows([{ critical: 128, tag: 'tbs', value: 'x' }, { critical: 0, tag: 'issue', value: 'letsencrypt.org' }], ids, false).allowed, false);
});

test('which addresses a CA can reach by default', () => {
  for (const address of ['10.33.0.4', '192.168.1.5', '172.20.0.1', '127.0.0.1', '100.64.1.1', '169.254.1.1', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) assert.equal(isPubliclyReachable(address), false, address);
  for (const address of ['203.0.113.7', '8.8.8.8', '2a01:4f8::1', '172.32.0.1', '::ffff:8.8.8.8']) assert.equal(isPubliclyReachable(address), true, address);
});
