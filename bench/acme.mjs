// ACME (issue 15) as one section of `npm run bench`, against a real `gatehouse serve` on 127.0.0.1,
// a real Pebble (Let's Encrypt's test CA) and a real bind9 that Pebble resolves names through
// (bench/acme-servers.mjs). bind9 points ACME_HOST at 127.0.0.1 and serve's HTTP listener takes
// Pebble's HTTP-01 port, so every validation goes through the proxy's own listener (ahead of the
// route's redirect to HTTPS). Pebble and bind9 run unpinned: they stand for servers elsewhere.
// - orders: the account and route are made through the admin API as the UI would; then the time
//   from adding the route to its certificate being served by SNI, and N "Renew now" calls (each
//   answers once the new certificate is issued), median and max. The served chain is verified
//   against Pebble's root;
// - a swap under load: wrk -t1 -c32 over HTTPS (SNI ACME_HOST) for 12 s while "Renew now" runs
//   every 2 s; after each, a fresh handshake must show a new certificate, and wrk must count no
//   error at all (connect, read, write, timeout, non-2xx/3xx): open connections keep theirs.
//   Alongside, new TLS connections one after another (handshakes racing the swaps), none failing;
// - the pre-flight (bench/acme-preflight.mjs), one report's time, also with a DNS server that
//   never answers.
// Also runs alone: node bench/acme.mjs [--quick]   (needs pebble, named (bind9), openssl, wrk)
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describePreflight, measurePreflight, preflightTargets } from './acme-preflight.mjs';
import { startNamed, startPebble, stopChild } from './acme-servers.mjs';
import { serveApi as api, startBenchServe, waitForCertificate } from './gatehouse.mjs';
import { cpuPressure, freePort, runStandalone, which } from './processes.mjs';
import { fmt, median } from './report.mjs';
import { handshake } from './tls.mjs';
import { errorCount, parseWrkOutput, runLoadTool, WRK_REPORT_SCRIPT } from './wrk.mjs';

const BACKEND = fileURLToPath(new URL('./multi-backend.mjs', import.meta.url));
const ZONE = 'acme.bench.example';
const ACME_HOST = `app.${ZONE}`;
/** "Renew now" calls timed one after another. */
const RENEWALS = 7;
/** The swap scenario: wrk's length (s), the wait between two renewals (ms). */
const SWAP = { durationS: 12, quickDurationS: 10, connections: 32, everyMs: 2000, minSwaps: 4 };

export const ACME_TARGETS = [
  { id: 'acme-order', text: 'an HTTP-01 order against Pebble completes in ≤ 2 s median, the proxy serving the challenge', limitMs: 2000 },
  { id: 'acme-swap', text: `a renewal swaps the certificate while wrk -c${SWAP.connections} runs over TLS: 0 failed requests, 0 dropped connections` },
];

/** Starts multi-backend.mjs on `port`; resolves once it prints "ready". */
async function startBackend(ctx, port) {
  const child = ctx.processes.start('acme-backend', process.execPath, [BACKEND, String(port)], { cpu: ctx.serverCpu ?? null, capture: true });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the backend on ${port} exited (${code}) before it listened`)));
  });
  return child;
}

/** A handshake that verifies the served chain against `rootPem` for `name`; resolves null or why not. */
function chainProblem(port, name, rootPem) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: name, ca: [rootPem], rejectUnauthorized: false, timeout: 5000 });
    socket.once('secureConnect', () => {
      const why = socket.authorized ? null : `does not chain to Pebble's root (${socket.authorizationError})`;
      socket.destroy();
      resolve(why);
    });
    socket.once('timeout', () => socket.destroy(new Error('no handshake within 5 s')));
    socket.once('error', (error) => resolve(error.message));
  });
}

/** The account (terms as the directory shows them, Pebble's API CA trusted) and the ACME route. */
async function setUp(serve, pebble, backendPort) {
  const directoryCaPem = pebble.apiCa;
  const directory = await api(serve, 'POST', '/api/acme/directory', { directoryUrl: pebble.directoryUrl, directoryCaPem });
  const account = await api(serve, 'POST', '/api/acme/accounts', { label: 'Pebble (bench)', directoryUrl: pebble.directoryUrl, termsAccepted: directory.termsOfService, directoryCaPem });
  if (account.status !== 'registered') throw new Error(`the ACME account is ${account.status}: ${JSON.stringify(account.problem ?? null)}`);
  const started = performance.now();
  const route = await api(serve, 'POST', '/api/routes', {
    names: [ACME_HOST],
    upstream: `127.0.0.1:${backendPort}`,
    tls: { mode: 'acme', certificateId: null, acme: { accountId: account.id, challenge: 'http-01' }, redirectHttp: true, hsts: false },
  });
  return { routeId: route.id, started };
}

/** One "Renew now"; resolves {ms, fingerprint} (the fingerprint the API says is now held). */
async function renewNow(serve, routeId) {
  const started = performance.now();
  const certificate = await api(serve, 'POST', `/api/certificates/routes/${routeId}/renew`);
  return { ms: performance.now() - started, fingerprint: certificate.fingerprintSha256 };
}

/** A fresh handshake's leaf fingerprint for ACME_HOST. */
async function servedFingerprint(httpsPort) {
  return (await handshake(httpsPort, ACME_HOST, { timeoutMs: 5000 })).fingerprint;
}

async function measureOrders(serve, httpsPort, pebble, backendPort) {
  const { routeId, started } = await setUp(serve, pebble, backendPort);
  // Only Pebble's certificate counts: whatever might be served for the name before it does not.
  for (;;) {
    const seen = await waitForCertificate(httpsPort, ACME_HOST, { timeoutMs: 30_000, intervalMs: 20 });
    if (/Pebble/.test(seen.issuer ?? '')) break;
    if (performance.now() - started > 30_000) throw new Error(`${ACME_HOST} is still served a certificate from ${seen.issuer}, not Pebble, after 30 s`);
    await sleep(20);
  }
  const firstMs = performance.now() - started;
  const chain = await chainProblem(httpsPort, ACME_HOST, await pebble.issuerRoot());
  const times = [];
  let previous = await servedFingerprint(httpsPort);
  let unchanged = 0;
  for (let i = 0; i < RENEWALS; i++) {
    const renewal = await renewNow(serve, routeId);
    times.push(renewal.ms);
    const served = await servedFingerprint(httpsPort);
    if (served === previous || served !== renewal.fingerprint) unchanged++;
    previous = served;
  }
  return { routeId, firstMs, times, medianMs: median(times), maxMs: Math.max(...times), chain, unchanged };
}

/**
 * New TLS connections one after another (a GET each, no keep-alive) until `isDone()`, so handshakes
 * also race the swaps (wrk's connections stay open); resolves {ok, failed, firstFailure}.
 */
async function churn(httpsPort, isDone) {
  const counts = { ok: 0, failed: 0, firstFailure: null };
  while (!isDone()) {
    const outcome = await new Promise((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port: httpsPort, servername: ACME_HOST, path: '/', headers: { host: ACME_HOST }, agent: false, rejectUnauthorized: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? null : `HTTP ${res.statusCode}`));
        res.on('error', (error) => resolve(error.code ?? error.message));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', (error) => resolve(error.code ?? error.message));
      req.end();
    });
    if (outcome === null) counts.ok++;
    else {
      counts.failed++;
      counts.firstFailure ??= outcome;
    }
  }
  return counts;
}

/** wrk over HTTPS while "Renew now" runs every SWAP.everyMs; each swap checked by a fresh handshake. */
async function measureSwap(ctx, serve, httpsPort, routeId, wrkPath, durationS) {
  const args = ['-t1', `-c${SWAP.connections}`, `-d${durationS}s`, '--timeout', '10s', '--latency', '-H', `Host: ${ACME_HOST}`, '-s', WRK_REPORT_SCRIPT, `https://${ACME_HOST}:${httpsPort}/`];
  let done = false;
  const load = runLoadTool(ctx.processes, 'wrk acme', wrkPath, ctx.loadCpu ?? null, args, parseWrkOutput).finally(() => (done = true));
  load.catch(() => undefined); // awaited below; a wrk stopped by Ctrl-C must not crash the run first
  const swaps = [];
  const churned = churn(httpsPort, () => done);
  try {
    let previous = await servedFingerprint(httpsPort);
    const started = performance.now();
    // Renewals at 2 s, 4 s … while at least a second of load is left after the swap.
    for (let at = SWAP.everyMs; at + 1000 <= durationS * 1000 && !done; at += SWAP.everyMs) {
      await sleep(Math.max(0, started + at - performance.now()));
      if (done) break;
      const renewal = await renewNow(serve, routeId);
      const served = await servedFingerprint(httpsPort);
      swaps.push({ atMs: performance.now() - started, renewMs: renewal.ms, changed: served !== previous && served === renewal.fingerprint });
      previous = served;
    }
  } finally {
    // Also after a failed renewal: wrk (bounded by -d) and the handshakes end before serve is stopped.
    await load.catch(() => undefined);
  }
  const run = await load;
  return { requests: run.requests, reqPerSec: run.reqPerSec, p99Ms: run.latencyMs.p99, errors: run.errors, failed: errorCount(run), swaps, durationS, churn: await churned };
}

/** Measures the section. Never throws: errors are in `error` (and `preflight.error`). */
export async function measureAcme(ctx, options = {}) {
  const result = { orders: null, swap: null, preflight: null, cpuPressure: cpuPressure(), load: loadavg().map((n) => Math.round(n * 100) / 100), error: null };
  const missing = [['pebble', 'pebble'], ['named', 'bind9'], ['openssl', 'openssl'], ['wrk', 'wrk']].filter(([tool]) => !(ctx.tools?.[tool] ?? which(tool)));
  const dir = mkdtempSync(join(ctx.tmp, 'acme-'));
  const started = [];
  try {
    if (missing.length) throw new Error(`not installed: ${missing.map(([tool]) => tool).join(', ')} (apt-get install ${missing.map(([, pkg]) => pkg).join(' ')})`);
    const named = await startNamed(ctx.processes, ZONE, [ACME_HOST], dir);
    started.push(named.stop);
    const pebble = await startPebble(ctx.processes, { dnsServer: named.address, httpPort: await freePort(), parent: dir });
    started.push(pebble.stop);
    const backendPort = await freePort();
    const backend = await startBackend(ctx, backendPort);
    started.push(() => stopChild(backend));
    const serve = await startBenchServe(ctx, dir, 'gatehouse-acme', { httpPort: pebble.httpPort });
    started.push(() => stopChild(serve.child));
    const httpsPort = (await api(serve, 'GET', '/api/proxy')).https?.port;
    if (typeof httpsPort !== 'number') throw new Error('GET /api/proxy names no HTTPS listener');
    result.orders = await measureOrders(serve, httpsPort, pebble, backendPort);
    result.swap = await measureSwap(ctx, serve, httpsPort, result.orders.routeId, ctx.tools?.wrk ?? which('wrk'), options.quick ? SWAP.quickDurationS : SWAP.durationS);
  } catch (error) {
    result.error = error.message.split('\n')[0];
  } finally {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    result.preflight = await measurePreflight(ctx, options.quick ? { reps: 1 } : {});
  } catch (error) {
    result.preflight = { error: error.message.split('\n')[0] };
  }
  result.failed = result.error !== null || Boolean(result.preflight.error);
  return result;
}

export function acmeTargets(acme) {
  const [order, swap] = ACME_TARGETS;
  const out = [];
  const o = acme.orders;
  if (!o) out.push({ id: order.id, text: order.text, status: 'MISS', detail: `not measured: ${acme.error}` });
  else {
    const ok = o.medianMs <= order.limitMs && o.chain === null && o.unchanged === 0;
    const wrong = [o.chain && `the certificate ${o.chain}`, o.unchanged && `${o.unchanged} renewal(s) left the served certificate unchanged`].filter(Boolean);
    out.push({ id: order.id, text: order.text, status: ok ? 'PASS' : 'MISS', detail: `median ${fmt(o.medianMs)} ms, max ${fmt(o.maxMs)} ms of ${o.times.length} (limit ${fmt(order.limitMs)})${wrong.length ? `; ${wrong.join('; ')}` : ''}` });
  }
  const s = acme.swap;
  if (!s) out.push({ id: swap.id, text: swap.text, status: 'MISS', detail: `not measured: ${acme.error}` });
  else {
    const changed = s.swaps.filter((entry) => entry.changed).length;
    const ok = s.requests > 0 && s.failed === 0 && s.churn.failed === 0 && changed >= SWAP.minSwaps && changed === s.swaps.length;
    const detail = `${s.failed} of ${fmt(s.requests)} failed; new connections ${s.churn.failed} of ${fmt(s.churn.ok + s.churn.failed)} failed; ${changed} of ${s.swaps.length} renewals swapped (at least ${SWAP.minSwaps})`;
    out.push({ id: swap.id, text: swap.text, status: ok ? 'PASS' : 'MISS', detail });
  }
  return [...out, ...(acme.preflight ? preflightTargets(acme.preflight) : [])];
}

export function describeAcme(acme) {
  const lines = [`ACME (gatehouse serve on 127.0.0.1, Pebble validating HTTP-01 through the proxy, names from bind9):`];
  const p = acme.cpuPressure;
  if (p && p.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${p.avg60}% of the last minute; load ${acme.load.join(' ')}).`);
  if (acme.error) lines.push(`  ERROR: ${acme.error}`);
  const o = acme.orders;
  if (o) {
    lines.push(`  route added → its certificate served by SNI: ${fmt(o.firstMs)} ms (first order, account already registered)`);
    lines.push(`  "Renew now" × ${o.times.length} (one order each, HTTP-01 answered by the proxy): median ${fmt(o.medianMs)} ms, max ${fmt(o.maxMs)} ms`);
    lines.push(`  served chain: ${o.chain === null ? "verifies against Pebble's root" : o.chain}; ${o.unchanged === 0 ? 'every renewal served a new certificate' : `${o.unchanged} renewal(s) did not change the served certificate`}`);
  }
  const s = acme.swap;
  if (s) {
    const e = s.errors;
    const changed = s.swaps.filter((entry) => entry.changed).length;
    lines.push(`  swap under load: wrk -c${SWAP.connections} ${s.durationS} s over TLS: ${fmt(s.requests)} requests (${fmt(s.reqPerSec)}/s, p99 ${fmt(s.p99Ms, 1)} ms); errors: connect ${e.connect}, read ${e.read}, write ${e.write}, timeout ${e.timeout}, non-2xx/3xx ${e.status}`);
    lines.push(`    alongside, one new TLS connection after another: ${fmt(s.churn.ok + s.churn.failed)}, ${s.churn.failed} failed${s.churn.firstFailure ? ` (first: ${s.churn.firstFailure})` : ''}`);
    lines.push(`    ${s.swaps.length} renewals during it (each ${s.swaps.map((entry) => fmt(entry.renewMs)).join(', ')} ms), ${changed} seen as a new certificate by a fresh handshake`);
  }
  if (acme.preflight) lines.push(describePreflight(acme.preflight).replace(/^/gm, '  '));
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  await runStandalone('acme', async ({ processes, tmp }) => {
    const acme = await measureAcme({ processes, tmp, serverCpu: null, loadCpu: null }, { quick });
    console.log(describeAcme(acme));
    for (const t of acmeTargets(acme)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
    process.exitCode = acme.failed ? 1 : 0;
  });
}
