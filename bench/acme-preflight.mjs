// The ACME pre-flight's time per name (issue 15 target: one name's report within 3 s, even when a
// DNS server never answers). Runs the built runPreflight (dist/, `npm run build` first) against a
// throwaway bind9 on 127.0.0.1 standing in for both the public resolvers and the zone's name server,
// the real proxy engine answering the HTTP probe, and a UDP "DNS server" that never answers:
// - healthy: one name, every check passes (public DNS, split DNS, CAA, HTTP probe);
// - ten names at once, healthy;
// - dead resolver: the public resolvers never answer;
// - lame delegation: the zone is found, its own name server never answers.
// Each scenario is run BENCH_PREFLIGHT_REPS times (default 5); the slowest run counts.
// Also runs alone: node bench/acme-preflight.mjs   (needs `named`, `nsupdate`, `tsig-keygen`: bind9)
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, which } from './processes.mjs';
import { fmt, median } from './report.mjs';

const DIST = fileURLToPath(new URL('../dist/node/', import.meta.url));
const ZONE = 'bench.example';
const REPS = Number(process.env.BENCH_PREFLIGHT_REPS ?? 5);

export const PREFLIGHT_TARGETS = [{ id: 'acme-preflight', text: 'ACME pre-flight: one name\'s report within 3 s, also when a DNS server never answers', limitMs: 3000 }];

async function load(path) {
  const file = join(DIST, path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first (npm run bench does).`);
  return import(pathToFileURL(file).href);
}

/** named on a free port serving ZONE with `names` → 127.0.0.1; {address, port, stop}. */
async function startNamed(names) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-bind9-'));
  const port = await freePort();
  writeFileSync(join(dir, 'named.conf'), `options { directory "${dir}"; pid-file none; session-keyfile "${join(dir, 'session.key')}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; dnssec-validation no; notify no; };
controls { };
zone "${ZONE}" { type primary; file "${join(dir, 'zone.db')}"; };
`);
  writeFileSync(join(dir, 'zone.db'), `$TTL 60\n@ IN SOA ns1 hostmaster 1 60 60 600 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n${names.map((name) => `${name}. IN A 127.0.0.1`).join('\n')}\n`);
  const child = spawn('named', ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { stdio: 'ignore' });
  const { Resolver } = await import('node:dns/promises');
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  for (let tries = 0; ; tries++) {
    try {
      await resolver.resolveSoa(ZONE);
      break;
    } catch {
      if (tries > 100 || child.exitCode !== null) throw new Error('named did not start');
      await sleep(100);
    }
  }
  return {
    address: `127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startSilent() {
  const socket = createSocket('udp4');
  socket.on('message', () => {});
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { address: `127.0.0.1:${socket.address().port}`, port: socket.address().port, stop: () => new Promise((resolve) => socket.close(resolve)) };
}

/** Runs every scenario; {scenarios: [{id, label, maxMs, medianMs, ok, failed}], error?}. */
export async function measurePreflight() {
  if (!which('named')) return { error: 'named (Debian bind9) is not installed' };
  const { runPreflight } = await load('src-main/core/certs/acme/preflight/index.js');
  const { isPubliclyReachable } = await load('src-main/core/certs/acme/preflight/reachable.js');
  const { ChallengeStore } = await load('src-main/core/certs/acme/challenge-store.js');
  const { ProxyEngine } = await load('src-main/core/proxy/engine.js');
  const { defaultSettings } = await load('shared/model.js');
  const names = Array.from({ length: 10 }, (_, index) => `app${index}.${ZONE}`);
  const named = await startNamed(names);
  const silent = await startSilent();
  const challenges = new ChallengeStore();
  const engine = new ProxyEngine({ settings: { ...defaultSettings().proxy, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, stopGraceMs: 200, challenges });
  engine.setRoutes([]);
  try {
    const { port } = await engine.start();
    const acme = { accountId: 'a', challenge: 'http-01', dnsProviderId: null, profile: null, keyType: 'ecdsa-p256' };
    const deps = (extra = {}) => ({
      httpPort: port,
      challenges,
      caaIdentities: ['letsencrypt.org'],
      publicResolvers: [named.address],
      authoritativePort: named.port,
      systemLookup: async () => ['127.0.0.1'],
      isReachableAddress: (address) => address.startsWith('127.') || isPubliclyReachable(address),
      ...extra,
    });
    const scenarios = [
      { id: 'healthy', label: 'one name, every check passing', names: [names[0]], deps: deps(), expectOk: true },
      { id: 'ten', label: 'ten names at once', names, deps: deps(), expectOk: true },
      { id: 'dead-resolver', label: 'public resolvers never answer', names: [names[0]], deps: deps({ publicResolvers: [silent.address] }), expectOk: false },
      { id: 'lame', label: "the zone's name server never answers", names: [names[0]], deps: deps({ authoritativePort: silent.port }), expectOk: false },
    ];
    const out = [];
    for (const scenario of scenarios) {
      const times = [];
      let failed = null;
      for (let rep = 0; rep < REPS; rep++) {
        const started = performance.now();
        const report = await runPreflight({ names: scenario.names, acme }, scenario.deps);
        times.push(performance.now() - started);
        if (report.ok !== scenario.expectOk) failed = `ok was ${report.ok}: ${report.checks.filter((check) => check.state !== 'pass').map((check) => check.message).join(' | ')}`;
      }
      out.push({ id: scenario.id, label: scenario.label, medianMs: median(times), maxMs: Math.max(...times), failed });
    }
    return { scenarios: out };
  } finally {
    await engine.stop();
    await silent.stop();
    await named.stop();
  }
}

export function describePreflight(result) {
  if (result.error) return `ACME pre-flight: not measured (${result.error}).`;
  const rows = result.scenarios.map((s) => `  ${s.label.padEnd(40)} median ${fmt(s.medianMs)} ms, slowest ${fmt(s.maxMs)} ms${s.failed ? `  UNEXPECTED: ${s.failed}` : ''}`);
  return ['ACME pre-flight (per report; all names run in parallel):', ...rows].join('\n');
}

export function preflightTargets(result) {
  const [target] = PREFLIGHT_TARGETS;
  if (result.error) return [{ id: target.id, text: target.text, status: 'MISS', detail: `not measured: ${result.error}` }];
  const slowest = Math.max(...result.scenarios.map((s) => s.maxMs));
  const wrong = result.scenarios.find((s) => s.failed);
  return [{ id: target.id, text: target.text, status: slowest <= target.limitMs && !wrong ? 'PASS' : 'MISS', detail: `slowest report ${fmt(slowest)} ms (limit ${fmt(target.limitMs)})${wrong ? `; ${wrong.id}: ${wrong.failed}` : ''}` }];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await measurePreflight();
  console.log(describePreflight(result));
  for (const target of preflightTargets(result)) console.log(`${target.status} ${target.text}: ${target.detail}`);
}
