// docs/api.md's curl examples, run as written against a real `gatehouse serve`: if the docs and the
// server drift apart, this fails. Blocks fenced ```sh run in order in one shell (so $ID carries over);
// ```sh setup is replaced by the test's own GH and TOKEN; ```sh events is run for a few seconds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { endpoints } from '../../shared/api.js';
import { repoRoot, startServe, type ServeProcess } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';

const docs = readFileSync(join(repoRoot, 'docs', 'api.md'), 'utf8');

function blocks(label: string): string[] {
  const fence = new RegExp('^```sh' + (label ? ` ${label}` : '') + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...docs.matchAll(fence)].map((match) => match[1]!);
}

describe('docs/api.md examples', { skip: needTools('curl') }, () => {
  let serve: ServeProcess;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    serve = await startServe();
    env = { ...process.env, GH: serve.adminUrl.replace(/\/$/, ''), TOKEN: serve.token };
  });
  after(async () => {
    await serve?.stop();
  });

  test('every ```sh block runs and answers as the docs say', () => {
    const examples = blocks('');
    assert.ok(examples.length >= 8, `found ${examples.length} examples`);
    const script = ['set -euo pipefail', ...examples.map((block, i) => `echo "@@ ${i}"\n${block}echo`)].join('\n');
    // In the data directory (removed afterwards), so the export example's file lands there.
    const run = spawnSync('bash', ['-c', script], { env, cwd: serve.dataDir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const outputs = run.stdout.split(/^@@ \d+\n/m).slice(1);
    const byCommand = (pattern: RegExp) => {
      const index = examples.findIndex((block) => pattern.test(block));
      assert.notEqual(index, -1, `an example matching ${pattern}`);
      return outputs[index]!;
    };

    assert.match(byCommand(/auth\/password/), /^\{"passwordSet":true,"signedIn":true,"via":"token","session":null,/, 'the token sets the first password');
    assert.match(
      byCommand(/auth\/sign-in/),
      /^\{"state":\{"passwordSet":true,"signedIn":true,"via":"session",.*"needsCode":false\}\{"passwordSet":true,"signedIn":true,"via":"session",.*\}\[\]\{"passwordSet":true,"signedIn":false,/,
      'sign-in, state and an API call with the cookie, then sign-out',
    );
    assert.match(byCommand(/-X POST "\$GH\/api\/routes"[\s\S]*"title": "Jellyfin"/), /"title":"Jellyfin","names":\["jellyfin\.home\.arpa"\],"upstreams":\[\{"url":"http:\/\/10\.33\.0\.4:8096","weight":1,"backup":false,"drained":false\}\],"redirect":null,"balancing":\{"policy":"failover","tries":3\}/);
    assert.match(byCommand(/ID=\$\(/), /"title":"Jellyfin"/);
    assert.match(byCommand(/-X DELETE/), /"removed":\{"id":"[a-z0-9]{10}","title":"Jellyfin"/, '$ID was picked out and used');
    assert.match(byCommand(/-X PUT/), /"names":\["jellyfin\.home\.arpa","tv\.home\.arpa"\].*"websocket":false/);
    assert.match(byCommand(/-X DELETE/), /^\{"removed":\{"id":"[a-z0-9]{10}"/);
    const drain = byCommand(/upstreams\/drain/);
    const primary = (drained: boolean) => `\\{"url":"http://10\\.33\\.0\\.4:8096","weight":1,"backup":false,"drained":${drained}\\}`;
    const backup = '\\{"url":"http://10\\.33\\.0\\.5:8096","weight":1,"backup":true,"drained":false\\}';
    assert.match(
      drain,
      new RegExp(`^\\{[^\\n]*"upstreams":\\[${primary(false)},${backup}\\][^\\n]*\\}\\{[^\\n]*"upstreams":\\[${primary(true)},${backup}\\][^\\n]*\\}\\{[^\\n]*"upstreams":\\[${primary(false)},${backup}\\]`),
      'the backup is added, the first drained, then put back',
    );
    assert.match(byCommand(/proxy\/stop/), /"state":"stopped"[\s\S]*"state":"running"[\s\S]*"state":"running"/);
    assert.match(byCommand(/api\/stats/), /"routes":\[\]/);
    assert.match(byCommand(/api\/history\?range=24h/), /^\{"range":"24h","stepSeconds":1200,"from":\d+,"to":\d+,"routes":\[\]\}/);
    assert.match(byCommand(/-X PATCH/), /"upstreamConnectMs":3000/);
    assert.match(byCommand(/check-ports/), /^\[\{"role":"http","port":8080,"address":"0\.0\.0\.0","available":(true|false),.*\{"role":"https","port":8443,/);
    assert.match(byCommand(/api\/health/), /^\[\]/, 'no routes are left at that point');
    const transfer = byCommand(/settings\/export/);
    assert.match(transfer, /^\{"routes":\{"added":\[\],"removed":\[\],"changed":\[\],"unchanged":0\},"streams":\{"added":\[\],"removed":\[\],"changed":\[\],"unchanged":0\},"settings":\[\{"path":"app\.onboarded","before":false,"after":true\}\],"fileVersion":10,"exportedAt":"[^"]+","warnings":\[\]\}/, 'the file just exported changes only the first-run flag, which an import sets');
    assert.match(transfer, /\}\{"settings":\{"proxy":\{.*"upstreamConnectMs":3000.*\},"routes":\[\]\}$/m, 'the import answers with the settings and routes');
    assert.match(byCommand(/api\/discovery"/), /^\{"state":"off","problem":\{"code":"mdns_off_for_run",.*"serviceTypes":\["_http\._tcp",.*"services":\[\],"published":\[\]\}/, 'the test runner turns mDNS off');
    assert.match(byCommand(/api\/app"/), /^\{"version":"\d+\.\d+\.\d+[^"]*","shell":"headless","platform":"[a-z0-9]+","canStartAtLogin":false\}/);
    const provider = byCommand(/api\/acme\/dns-providers"/);
    const view = (timeout: number, credentialsSet: boolean) =>
      `\\{"id":"[a-z0-9]{10}","label":"Home BIND","propagationTimeoutMs":${timeout},"kind":"rfc2136","server":"10\\.33\\.0\\.2","zone":null,"keyName":"acme-key","algorithm":"hmac-sha256","credentialsSet":${credentialsSet},"usedBy":\\[\\]\\}`;
    assert.match(provider, new RegExp(`^${view(120000, true)}\\n?${view(60000, true)}\\{"removed":${view(60000, false)}\\}`), 'added, changed keeping its credentials, removed');
    assert.doesNotMatch(provider, /o3wQ6YyKc2Vt1zQmHk2uYg5Kx9jTqk0yS3cC1mJ7q9E=/, 'the TSIG secret never comes back');
    assert.match(byCommand(/"acme":\{"directories"/), /^"acme":\{"directories":\[\{"id":"letsencrypt",.*"accounts":\[\],"dnsProviders":\[\],"secretsStoredIn":"key-file"\}\}$/m);
    const error = byCommand(/jellyfin home/);
    assert.match(error, /"code":"invalid_input"/);
    assert.match(error, /"path":"names\.0"/);
    assert.match(error, /"path":"upstreams\.0\.url"/);
  });

  test('every member of the API contract has a row with its method and path', () => {
    const missing = Object.entries(endpoints)
      .filter(([name, spec]) => !docs.includes(`| \`${name}\` | \`${spec.method} ${spec.path}`))
      .map(([name, spec]) => `${name} (${spec.method} ${spec.path})`);
    assert.deepEqual(missing, [], 'docs/api.md lists every endpoint in its table');
  });

  test('the events example streams a status event first', () => {
    const [events] = blocks('events');
    assert.ok(events);
    const run = spawnSync('timeout', ['3', 'bash', '-c', events], { env, encoding: 'utf8' });
    assert.equal(run.status, 124, 'curl -N keeps streaming until stopped');
    assert.match(run.stdout, /^event: status\ndata: \{"state":"running"/);
  });
});
