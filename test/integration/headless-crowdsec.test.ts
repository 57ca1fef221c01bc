// CrowdSec through the real `gatehouse serve` admin API, as the Access page drives it: the bouncer
// key is stored (mode 0600) and never echoed, only `apiKeySet`; "" removes it; the settings
// persist across a restart; with a real LAPI the state reaches ok. The combined log switch is an
// ordinary log setting, and turning it on writes nginx-format lines for proxied requests.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AccessOverview } from '../../shared/access.js';
import type { GeneralSettings } from '../../shared/model.js';
import { needCrowdsec, startCrowdsec } from '../helpers/crowdsec.js';
import { eventually } from '../helpers/bounced-proxy.js';
import { makeDataDir, startServe } from '../helpers/serve.js';
import { rm } from 'node:fs/promises';

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

test('the bouncer key round trip and the CrowdSec state through the headless API', { skip: needCrowdsec(), timeout: 120_000 }, async (t) => {
  const crowdsec = await startCrowdsec();
  t.after(() => crowdsec.close());
  const key = await crowdsec.addBouncer('gatehouse');
  const dataDir = await makeDataDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  let serve = await startServe({ dataDir });
  t.after(() => serve.stop({ keepDataDir: true }));

  const initial = (await (await serve.api('/api/access')).json()) as AccessOverview;
  assert.equal(initial.crowdsec.state, 'off');
  assert.equal(initial.crowdsec.apiKeySet, false);

  const set = await serve.api('/api/access/settings', json('PATCH', { crowdsec: { enabled: true, url: crowdsec.url, pullSeconds: 2 }, crowdsecApiKey: key }));
  assert.equal(set.status, 200);
  const text = await set.text();
  assert.ok(!text.includes(key), 'the key is never echoed');
  const after = JSON.parse(text) as AccessOverview;
  assert.equal(after.crowdsec.apiKeySet, true);
  assert.deepEqual(after.crowdsec.settings, { enabled: true, url: crowdsec.url, pullSeconds: 2, applyToLan: false });
  const keyFile = join(dataDir, 'crowdsec-key');
  assert.equal((await readFile(keyFile, 'utf8')).trim(), key);
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);

  const overview = async () => ((await (await serve.api('/api/access')).json()) as AccessOverview).crowdsec;
  await eventually(async () => (await overview()).state === 'ok', 15_000, 'the state to be ok');
  await crowdsec.cscli('decisions', 'add', '--ip', '198.51.100.7', '--duration', '1h');
  await eventually(async () => (await overview()).bans === 1, 10_000, 'the ban to be counted');
  const settingsText = await (await serve.api('/api/settings')).text();
  assert.ok(!settingsText.includes(key), 'not in the settings either');

  // The key and settings survive a restart; the first pull after it takes the whole set again.
  await serve.stop({ keepDataDir: true });
  serve = await startServe({ dataDir });
  await eventually(async () => (await overview()).state === 'ok', 15_000, 'ok after a restart');
  const restarted = await overview();
  assert.equal(restarted.apiKeySet, true);
  assert.equal(restarted.bans, 1);

  // "" removes the key: no_key, the file gone.
  const removed = (await (await serve.api('/api/access/settings', json('PATCH', { crowdsecApiKey: '' }))).json()) as AccessOverview;
  assert.equal(removed.crowdsec.apiKeySet, false);
  assert.equal(removed.crowdsec.state, 'no_key');
  await assert.rejects(stat(keyFile), { code: 'ENOENT' });

  // A key with spaces is refused, naming the field.
  const bad = await serve.api('/api/access/settings', json('PATCH', { crowdsecApiKey: 'two words' }));
  assert.equal(bad.status, 400);

  // The combined log is a log setting (default off).
  const general = (await (await serve.api('/api/settings')).json()) as GeneralSettings;
  assert.equal(general.log.combinedLog, false);
  const on = (await (await serve.api('/api/settings', json('PATCH', { log: { combinedLog: true } }))).json()) as GeneralSettings;
  assert.equal(on.log.combinedLog, true);
  const port = serve.proxyPort as number;
  await fetch(`http://127.0.0.1:${port}/nothing-here`, { headers: { host: 'unknown.test', 'user-agent': 'combined-check/1' } }).then((res) => res.arrayBuffer());
  await eventually(async () => (await readFile(join(dataDir, 'access-combined.log'), 'utf8').catch(() => '')).includes('combined-check/1'), 5000, 'the combined line');
  const line = (await readFile(join(dataDir, 'access-combined.log'), 'utf8')).trim().split('\n').at(-1) as string;
  assert.match(line, /^127\.0\.0\.1 - - \[[^\]]+ \+0000\] "GET \/nothing-here HTTP\/1\.1" \d{3} \d+ "-" "combined-check\/1"$/);
});
