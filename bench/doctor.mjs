// The route doctor's time when its DNS server never answers (issue 17 target: the whole report within
// 5 s). Runs the built gateway (dist/, `npm run build` first) with one route of two public names, a
// local upstream, and every DNS question (public DNS, and the system resolver's stand-in) going to a
// UDP socket that reads and never answers. BENCH_DOCTOR_REPS runs (default 3); the slowest counts.
// Also runs alone: node bench/doctor.mjs
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startSilent } from './acme-servers.mjs';

const DIST = fileURLToPath(new URL('../dist/node/', import.meta.url));
const REPS = Number(process.env.BENCH_DOCTOR_REPS ?? 3);
export const DOCTOR_TARGET_MS = 5000;

async function load(path) {
  const file = join(DIST, path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first (npm run bench does).`);
  return import(pathToFileURL(file).href);
}

/** {name, value (ms, the slowest run), unit, target, pass, runs, checks}. */
export async function run({ reps = REPS } = {}) {
  const { createGateway } = await load('src-main/core/gateway.js');
  const { parseInput } = await load('shared/api.js');
  const silent = await startSilent();
  const upstream = createServer((req, res) => res.end('ok'));
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-doctor-'));
  // The system resolver's stand-in asks the silent server too: a LAN DNS server that is down.
  const deadSystemDns = async (name) => {
    const resolver = new Resolver({ timeout: 30_000, tries: 1 });
    resolver.setServers([silent.address]);
    return resolver.resolve4(name);
  };
  const gateway = await createGateway({
    dataDir,
    overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' },
    mdnsEnvironment: 'off',
    acmePreflight: { publicResolvers: [silent.address], systemLookup: deadSystemDns },
  });
  try {
    await gateway.handlers.startProxy(parseInput('startProxy', {}));
    const route = await gateway.handlers.addRoute(parseInput('addRoute', { names: ['app.doctor-bench.net', 'www.doctor-bench.net'], upstream: `http://127.0.0.1:${upstream.address().port}` }));
    const runs = [];
    let checks = null;
    for (let rep = 0; rep < reps; rep++) {
      const started = performance.now();
      const report = await gateway.handlers.runDoctor(parseInput('runDoctor', { routeId: route.id }));
      runs.push(Math.round(performance.now() - started));
      const dns = report.checks.filter((check) => check.step === 'dns');
      checks = { dnsFailed: dns.filter((check) => check.state === 'fail' && /did not answer/.test(check.says)).length, dns: dns.length, verdict: report.verdict };
    }
    const value = Math.max(...runs);
    // The doctor must also have said why: every DNS check a failure that the server did not answer.
    const said = checks !== null && checks.dns > 0 && checks.dnsFailed === checks.dns;
    return { name: 'doctor', value, unit: 'ms', target: DOCTOR_TARGET_MS, pass: value <= DOCTOR_TARGET_MS && said, runs, checks };
  } finally {
    await gateway.close();
    upstream.close();
    await silent.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The bench's target line for a result of run() (or the error that stopped it). */
export function doctorTarget(result) {
  const text = 'Route doctor: the whole report within 5 s when its DNS server never answers';
  if (result.error) return { id: 'doctor', text, status: 'MISS', detail: `not measured: ${result.error}` };
  const said = result.checks && result.checks.dnsFailed === result.checks.dns ? '' : '; the DNS checks did not all say the server did not answer';
  return { id: 'doctor', text, status: result.pass ? 'PASS' : 'MISS', detail: `slowest ${result.value} ms of ${result.runs.join(', ')} ms (limit ${result.target})${said}` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  console.log(JSON.stringify(result));
  console.log(doctorTarget(result));
}
