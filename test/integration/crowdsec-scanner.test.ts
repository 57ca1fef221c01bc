// The whole loop with CrowdSec's own scenarios: a scanner's burst through Gatehouse lands in
// Gatehouse's combined log (log.combinedLog), the real CrowdSec agent tails that file with its
// stock nginx parser, its crowdsecurity/http-probing and http-bad-user-agent scenarios ban the
// addresses, and Gatehouse, pulling from the LAPI, refuses them. Nothing is written by hand.
import assert from 'node:assert/strict';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMBINED_LOG_FILE } from '../../src-main/core/proxy/access-log.js';
import { eventually, startBouncedProxy } from '../helpers/bounced-proxy.js';
import { needCrowdsec, startCrowdsec } from '../helpers/crowdsec.js';

const PULL_SECONDS = 2;

test("a scanner burst in Gatehouse's combined log is banned by CrowdSec's own scenarios, and then refused", { skip: needCrowdsec(), timeout: 180_000 }, async (t) => {
  // The app answers 404 for what it does not have, as apps do to a scanner.
  const proxy = await startBouncedProxy({
    crowdsec: { enabled: true, pullSeconds: PULL_SECONDS },
    combinedLog: true,
    handler: (req, res) => {
      req.resume();
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/plain' }).end('home');
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    },
  });
  t.after(() => proxy.close());
  const logFile = join(proxy.dataDir, COMBINED_LOG_FILE);
  // The agent tails from the end of the file: it must exist (empty) when the agent starts.
  await writeFile(logFile, '', { mode: 0o600 });
  const crowdsec = await startCrowdsec({ tail: [logFile] });
  t.after(() => crowdsec.close());
  await proxy.runtime.crowdsec.setApiKey(await crowdsec.addBouncer('gatehouse'));
  proxy.setCrowdsec({ url: crowdsec.url });
  await eventually(() => proxy.runtime.crowdsec.status().state === 'ok', 10_000, 'the first pull');

  // 198.51.100.20 probes 15 paths that do not exist (http-probing: more than 10 distinct 404s).
  for (let i = 1; i <= 15; i++) assert.equal((await proxy.get('198.51.100.20', `/probe-${i}.php`)).status, 404);
  // 198.51.100.21 comes with a scanner's User-Agent (http-bad-user-agent: 2 hits).
  for (let i = 0; i < 2; i++) assert.equal((await proxy.get('198.51.100.21', '/', { 'user-agent': 'Nikto/2.1.6' })).status, 200);
  const burstAt = Date.now();

  await eventually(async () => (await proxy.get('198.51.100.20')).status === 403, 30_000, 'the prober to be refused');
  await eventually(async () => (await proxy.get('198.51.100.21')).status === 403, 30_000, 'the bad user agent to be refused');
  t.diagnostic(`both refused ${Date.now() - burstAt} ms after the burst`);
  assert.equal((await proxy.get('198.51.100.22')).status, 200, 'a visitor who did nothing is served');

  const probing = await crowdsec.decisionsFor('198.51.100.20');
  assert.ok(probing.some((d) => d.scenario === 'crowdsecurity/http-probing' && d.type === 'ban'), `CrowdSec's own scenario banned it: ${JSON.stringify(probing)}`);
  const agent = await crowdsec.decisionsFor('198.51.100.21');
  assert.ok(agent.some((d) => d.scenario === 'crowdsecurity/http-bad-user-agent'), JSON.stringify(agent));
  assert.match(proxy.runtime.reputation.banned('198.51.100.20')?.reason ?? '', /crowdsecurity\/http-probing/);

  const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
  assert.match(lines[0] ?? '', /^198\.51\.100\.20 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/probe-1\.php HTTP\/1\.1" 404 9 "-" "-"$/);
  assert.ok(lines.some((line) => line.endsWith('"-" "Nikto/2.1.6"')));
});
