// Gatehouse as a bouncer of a real CrowdSec Local API (Debian's crowdsec 1.4.6): a decision added
// with cscli refuses that client within the pull interval, deleting it admits the client again,
// and a Range decision refuses every address inside it. The client is 127.0.0.1 acting as a
// trusted proxy, X-Forwarded-For naming TEST-NET addresses (CrowdSec whitelists private ones).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, startBouncedProxy } from '../helpers/bounced-proxy.js';
import { needCrowdsec, startCrowdsec } from '../helpers/crowdsec.js';

const PULL_SECONDS = 2;

test('a cscli decision refuses the client within the pull interval, and its deletion admits it again', { skip: needCrowdsec(), timeout: 120_000 }, async (t) => {
  const crowdsec = await startCrowdsec();
  t.after(() => crowdsec.close());
  const key = await crowdsec.addBouncer('gatehouse');
  const proxy = await startBouncedProxy({ crowdsec: { enabled: true, url: crowdsec.url, pullSeconds: PULL_SECONDS }, apiKey: key });
  t.after(() => proxy.close());

  await eventually(() => proxy.runtime.crowdsec.status().state === 'ok', 10_000, 'the first pull');
  const first = proxy.runtime.crowdsec.status();
  assert.equal(first.problem, null);
  assert.equal(first.apiKeySet, true);
  assert.equal(first.bans, 0);
  assert.ok(first.lastPullAt !== null);
  assert.equal((await proxy.get('198.51.100.7')).status, 200, 'nobody is banned yet');
  // CrowdSec records the bouncer's User-Agent as its type and version (`cscli bouncers list`).
  const bouncers = JSON.parse(await crowdsec.cscli('bouncers', 'list', '-o', 'json')) as { name: string; type: string; version: string; last_pull: string }[];
  const listed = bouncers.find((bouncer) => bouncer.name === 'gatehouse');
  assert.equal(listed?.type, 'gatehouse-bouncer');
  assert.match(listed?.version ?? '', /^\d+\.\d+\.\d+/);

  await crowdsec.cscli('decisions', 'add', '--ip', '198.51.100.7', '--duration', '1h', '--reason', 'test ban');
  const added = Date.now();
  const tookMs = await eventually(async () => (await proxy.get('198.51.100.7')).status === 403, 10_000, 'the ban to reach Gatehouse');
  assert.ok(Date.now() - added <= (PULL_SECONDS + 1.5) * 1000, `refused ${Date.now() - added} ms after the decision, pull interval ${PULL_SECONDS} s`);
  t.diagnostic(`refused ${tookMs} ms after cscli decisions add (pull every ${PULL_SECONDS} s)`);
  const refused = await proxy.get('198.51.100.7');
  assert.equal(refused.status, 403);
  assert.doesNotMatch(refused.text, /crowdsec|198\.51\.100\.7|127\.0\.0\.1/i, 'the visitor is not told which rule or upstream');
  assert.equal((await proxy.get('198.51.100.8')).status, 200, 'a neighbour is not banned');
  assert.equal(proxy.runtime.crowdsec.status().bans, 1);
  const ban = proxy.runtime.reputation.banned('198.51.100.7');
  assert.equal(ban?.source, 'crowdsec');
  assert.match(ban?.reason ?? '', /CrowdSec: test ban/);
  assert.ok(ban?.until && ban.until > Date.now() + 55 * 60_000 && ban.until <= Date.now() + 3_600_000, 'the ban lasts the decision\'s hour');
  const logged = proxy.accessLog.recent(10).find((entry) => entry.status === 403);
  assert.equal(logged?.error, 'banned');
  assert.equal(logged?.client, '198.51.100.7');
  assert.match(logged?.rule ?? '', /crowdsec: ban \(CrowdSec: test ban\)/);

  await crowdsec.cscli('decisions', 'delete', '--ip', '198.51.100.7');
  await eventually(async () => (await proxy.get('198.51.100.7')).status === 200, (PULL_SECONDS + 3) * 1000, 'the client to be admitted after the delete');
  assert.equal(proxy.runtime.crowdsec.status().bans, 0);
  // The LAPI lists a deleted decision again on later pulls: a ban for the same address that comes
  // after it must hold.
  await crowdsec.cscli('decisions', 'add', '--ip', '198.51.100.7', '--duration', '1h');
  await eventually(async () => (await proxy.get('198.51.100.7')).status === 403, (PULL_SECONDS + 3) * 1000, 'the second ban');
  await new Promise((resolve) => setTimeout(resolve, (PULL_SECONDS * 2 + 1) * 1000));
  assert.equal((await proxy.get('198.51.100.7')).status, 403, 'a repeated delete did not lift the new ban');
});

test('a Range decision refuses every address inside it, IPv6 included, and nothing outside', { skip: needCrowdsec(), timeout: 120_000 }, async (t) => {
  const crowdsec = await startCrowdsec();
  t.after(() => crowdsec.close());
  await crowdsec.cscli('decisions', 'add', '--range', '203.0.113.0/25', '--duration', '1h');
  await crowdsec.cscli('decisions', 'add', '--range', '2001:DB8:AB::/48', '--duration', '1h');
  await crowdsec.cscli('decisions', 'add', '--ip', '2001:DB8::7', '--duration', '1h', '--type', 'captcha');
  const key = await crowdsec.addBouncer('gatehouse');
  const proxy = await startBouncedProxy({ crowdsec: { enabled: true, url: crowdsec.url, pullSeconds: PULL_SECONDS }, apiKey: key });
  t.after(() => proxy.close());
  await eventually(() => proxy.runtime.crowdsec.status().state === 'ok', 10_000, 'the startup pull');
  assert.equal(proxy.runtime.crowdsec.status().bans, 3);

  assert.equal((await proxy.get('203.0.113.1')).status, 403);
  assert.equal((await proxy.get('203.0.113.127')).status, 403);
  assert.equal((await proxy.get('203.0.113.128')).status, 200, 'outside the /25');
  assert.equal((await proxy.get('2001:db8:ab:ffff::1')).status, 403);
  assert.equal((await proxy.get('2001:db8:ac::1')).status, 200, 'outside the /48');
  // CrowdSec keeps the value as typed (upper case); Gatehouse matches it however it is written.
  assert.equal((await proxy.get('2001:db8::7')).status, 403, 'a captcha decision is refused as a ban');
  assert.match(proxy.runtime.reputation.banned('2001:db8::7')?.reason ?? '', /captcha \(refused as a ban\)/);
});

// NEEDS THE ACCESS PASS: the exemption is the access pass's (shared/access.ts step 4). Until it is
// merged, bounced-proxy.ts's test-local pass stands in for it; banned() itself answers the raw
// decision whatever the address.
test("a ban on this machine's own address is not applied unless applyToLan is on", { skip: needCrowdsec(), timeout: 60_000 }, async (t) => {
  const crowdsec = await startCrowdsec();
  t.after(() => crowdsec.close());
  await crowdsec.cscli('decisions', 'add', '--ip', '127.0.0.9', '--duration', '1h');
  const key = await crowdsec.addBouncer('gatehouse');
  const proxy = await startBouncedProxy({ crowdsec: { enabled: true, url: crowdsec.url, pullSeconds: PULL_SECONDS }, apiKey: key });
  t.after(() => proxy.close());
  await eventually(() => proxy.runtime.crowdsec.status().state === 'ok', 10_000, 'the startup pull');
  assert.ok(proxy.runtime.reputation.banned('127.0.0.9'), 'banned() answers the raw decision');
  assert.equal((await proxy.get('127.0.0.9')).status, 200, 'the owner is not refused');
  proxy.setCrowdsec({ applyToLan: true });
  assert.equal(proxy.runtime.crowdsec.status().state, 'ok', 'applyToLan does not restart the pulls');
  assert.equal((await proxy.get('127.0.0.9')).status, 403, 'refused once the user asks');
});
