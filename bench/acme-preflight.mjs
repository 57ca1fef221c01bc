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
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startNamed, startSilent } from './acme-servers.mjs';
import { Processes, which } from './processes.mjs';
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

/**
 * Runs every scenario `reps` times; {scenarios: [{id, label, maxMs, medianMs, ok, failed}], error?}.
 * `ctx.processes` (bench/processes.mjs) tracks named, so an interrupted bench stops it by PID and
 * removes its files with `ctx.tmp`.
 */
export async function measurePreflight(ctx = {}, { reps = REPS } = {}) {
  if (!which('named')) return { error: 'named (Debian bind9) is not installed' };
  const { runPreflight } = await load('src-main/core/certs/acme/preflight/index.js');
  const { isPubliclyReachable } = await load('src-main/core/certs/acme/preflight/reachable.js');
  const { ChallengeStore } = await load('src-main/core/certs/acme/challenge-store.js');
  const { ProxyEngine } = await load('src-main/core/proxy/engine.js');
  const { defaultSettings } = await load('shared/model.js');
  const names = Array.from({ length: 10 }, (_, index) => `app${index}.${ZONE}`);
  const named = await startNamed(ctx.processes ?? new Processes(null), ZONE, names, ctx.tmp);
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
      for (let rep = 0; rep < reps; rep++) {
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
