// CrowdSec must never take the home lab down with it: with the real LAPI stopped, Gatehouse says
// "down" in plain words, keeps serving everyone else, keeps refusing what CrowdSec banned until the
// ban's own duration ends, and picks up again when the LAPI is back. A refused key and a missing
// key are states of their own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, startBouncedProxy } from '../helpers/bounced-proxy.js';
import { needCrowdsec, startCrowdsec } from '../helpers/crowdsec.js';
import { startServer } from '../helpers/proxy-harness.js';

const PULL_SECONDS = 2;

test('the LAPI stopped: state down, others served, the earlier ban refused until it expires, back to ok when it returns', { skip: needCrowdsec(), timeout: 120_000 }, async (t) => {
  const crowdsec = await startCrowdsec();
  t.after(() => crowdsec.close());
  const key = await crowdsec.addBouncer('gatehouse');
  await crowdsec.cscli('decisions', 'add', '--ip', '198.51.100.30', '--duration', '8s');
  const proxy = await startBouncedProxy({ crowdsec: { enabled: true, url: crowdsec.url, pullSeconds: PULL_SECONDS }, apiKey: key });
  t.after(() => proxy.close());
  await eventually(() => proxy.runtime.crowdsec.status().state === 'ok', 10_000, 'the startup pull');
  const bannedAt = Date.now();
  assert.equal((await proxy.get('198.51.100.30')).status, 403);

  await crowdsec.stop();
  await eventually(() => proxy.runtime.crowdsec.status().state === 'down', (PULL_SECONDS + 3) * 1000, 'the state to say down');
  const down = proxy.runtime.crowdsec.status();
  assert.equal(down.problem, `CrowdSec's Local API at ${crowdsec.url} did not answer: connection refused`);
  assert.equal((await proxy.get('198.51.100.31')).status, 200, 'traffic from other clients is served');
  assert.equal((await proxy.get('198.51.100.30')).status, 403, 'the ban CrowdSec sent stays in force while it is down');

  // The decision lasted 8 s: it ends on time with nobody to say so.
  await eventually(async () => (await proxy.get('198.51.100.30')).status === 200, 12_000, 'the ban to expire');
  const lasted = Date.now() - bannedAt;
  assert.ok(lasted >= 5000 && lasted <= 11_000, `the ban lasted ${lasted} ms (decision: 8 s)`);
  await eventually(() => proxy.runtime.crowdsec.status().bans === 0, 70_000, 'the expired ban to leave the count');

  await crowdsec.start();
  await crowdsec.cscli('decisions', 'add', '--ip', '198.51.100.32', '--duration', '1h');
  // Retries back off (at most a minute apart). The pulls that failed never reached the LAPI, so the
  // next is a delta (its "last pull" did not move): the ban made meanwhile must be in it.
  await eventually(() => proxy.runtime.crowdsec.status().state === 'ok', 70_000, 'the state to return to ok');
  assert.equal(proxy.runtime.crowdsec.status().problem, null);
  assert.equal((await proxy.get('198.51.100.32')).status, 403, 'a ban made while Gatehouse could not pull arrives with the next pull');
});

test('a refused key is bad_key, no key is no_key, and neither blocks anyone', { skip: needCrowdsec(), timeout: 60_000 }, async (t) => {
  const crowdsec = await startCrowdsec();
  t.after(() => crowdsec.close());
  const proxy = await startBouncedProxy({ crowdsec: { enabled: true, url: crowdsec.url, pullSeconds: PULL_SECONDS } });
  t.after(() => proxy.close());

  const none = proxy.runtime.crowdsec.status();
  assert.equal(none.state, 'no_key');
  assert.equal(none.apiKeySet, false);
  assert.match(none.problem ?? '', /cscli bouncers add gatehouse/);

  await proxy.runtime.crowdsec.setApiKey('0123456789abcdef0123456789abcdef');
  await eventually(() => proxy.runtime.crowdsec.status().state === 'bad_key', 10_000, 'the key to be refused');
  const bad = proxy.runtime.crowdsec.status();
  assert.equal(bad.apiKeySet, true);
  assert.equal(bad.problem, `the bouncer key was refused by CrowdSec's Local API at ${crowdsec.url}; create one with \`cscli bouncers add gatehouse\` and enter it here`);
  assert.equal((await proxy.get('198.51.100.40')).status, 200);

  await proxy.runtime.crowdsec.setApiKey(await crowdsec.addBouncer('gatehouse'));
  await eventually(() => proxy.runtime.crowdsec.status().state === 'ok', 10_000, 'a good key to be taken');

  proxy.setCrowdsec({ enabled: false });
  const off = proxy.runtime.crowdsec.status();
  assert.equal(off.state, 'off');
  assert.equal(off.problem, null);
});

test('an address that is not a Local API is down with a hint, not a crash', { skip: needCrowdsec(), timeout: 60_000 }, async (t) => {
  // A port nothing listens on: one that was free a moment ago.
  const closed = await startServer(() => undefined);
  await closed.close();
  const proxy = await startBouncedProxy({ crowdsec: { enabled: true, url: closed.url, pullSeconds: PULL_SECONDS }, apiKey: 'abc' });
  t.after(() => proxy.close());
  await eventually(() => proxy.runtime.crowdsec.status().state === 'down', 10_000, 'down');
  assert.equal(proxy.runtime.crowdsec.status().problem, `CrowdSec's Local API at ${closed.url} did not answer: connection refused`);

  // A web server that is not CrowdSec: the user pointed at the wrong port.
  const other = await startServer((_req, res) => res.writeHead(404).end('not here'));
  t.after(() => other.close());
  proxy.setCrowdsec({ url: other.url });
  await eventually(() => /answered 404/.test(proxy.runtime.crowdsec.status().problem ?? ''), 10_000, 'the 404 to be reported');
  assert.equal(proxy.runtime.crowdsec.status().state, 'down');
  assert.match(proxy.runtime.crowdsec.status().problem ?? '', /Is this the Local API's address/);
});
