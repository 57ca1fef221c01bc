// Sign-in's costs, measured against a real `gatehouse serve` on 127.0.0.1: how long one sign-in
// takes (POST /auth/sign-in, argon2id verify included; median and p95 of 30), and what the session
// check adds to an API call: GET /api/routes with the session cookie against the same call with the
// bearer token, interleaved in blocks so a noisy moment hits both, plus the check alone in this
// process (AdminAuth.identify, the one lookup every /api/ request makes) as a share of the call.
// Called by bench/run.mjs as one section; also runs alone: node bench/signin.mjs [--quick].
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Processes, cpuPressure } from './processes.mjs';
import { fmt, median } from './report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'gatehouse.js');
const BUILT_AUTH = join(ROOT, 'dist', 'node', 'src-main', 'headless', 'auth', 'admin-auth.js');
const PASSWORD = 'bench password, long enough';

export const SIGNIN_TARGETS = [
  { id: 'signin-time', text: 'a sign-in costs ≤ 300 ms (median)', limit: 300 },
  { id: 'signin-session-check', text: 'the session check adds < 1% to an API call', limit: 1 },
];

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const series = (samples) => ({ medianMs: median(samples), p95Ms: percentile(samples, 95), count: samples.length });

async function startServe(processes, dir, cpu) {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const set = spawnSync(process.execPath, [CLI, 'set-password', '--data-dir', dataDir], { input: `${PASSWORD}\n`, encoding: 'utf8' });
  if (set.status !== 0) throw new Error(`gatehouse set-password failed: ${set.stderr.trim()}`);
  const logPath = join(dir, 'serve.log');
  const args = [CLI, 'serve', '--data-dir', dataDir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-port', '0'];
  const child = processes.start('gatehouse-signin', process.execPath, args, { logPath, cwd: ROOT, cpu });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gatehouse serve exited:\n${Processes.logTail(logPath)}`);
    try {
      const info = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8'));
      if (info.pid === child.pid) return { child, adminUrl: info.adminUrl, token: readFileSync(join(dataDir, 'admin-token'), 'utf8').trim() };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`gatehouse serve wrote no serve.json within 30 s:\n${Processes.logTail(logPath)}`);
    await sleep(50);
  }
}

async function signIn(adminUrl) {
  const started = performance.now();
  const response = await fetch(new URL('/auth/sign-in', adminUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password: PASSWORD }),
  });
  const elapsed = performance.now() - started;
  await response.text();
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (response.status !== 200 || !cookie) throw new Error(`sign-in answered ${response.status}`);
  return { elapsed, cookie };
}

async function timedCalls(adminUrl, headers, count) {
  const samples = [];
  const url = new URL('/api/routes', adminUrl);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.text();
    samples.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`GET /api/routes answered ${response.status}`);
  }
  return samples;
}

/** The check alone: AdminAuth.identify for a cookie and for a bearer, in this process, in ns. */
async function checkCostNs(dir, iterations) {
  if (!existsSync(BUILT_AUTH)) throw new Error(`${BUILT_AUTH} is missing: npm run build`);
  const { AdminAuth } = await import(pathToFileURL(BUILT_AUTH).href);
  const token = 'b'.repeat(43);
  const auth = await AdminAuth.open({ dataDir: mkdtempSync(join(dir, 'check-')), token });
  try {
    const code = auth.createOnceLink();
    const { id } = await auth.useOnceLink('127.0.0.1', code);
    // The fastest of five runs: other programs on the machine only ever add time to a run.
    const time = (fn) => {
      for (let i = 0; i < 10_000; i++) fn(); // warm-up for the JIT
      let best = Infinity;
      for (let run = 0; run < 5; run++) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < iterations / 5; i++) fn();
        best = Math.min(best, Number(process.hrtime.bigint() - started) / (iterations / 5));
      }
      return best;
    };
    const cookie = time(() => auth.identify([id], undefined));
    const bearer = time(() => auth.identify([], `Bearer ${token}`));
    if (auth.identify([id], undefined).via !== 'session') throw new Error('the session check did not find the session');
    return { cookieNs: cookie, bearerNs: bearer };
  } finally {
    await auth.close();
  }
}

/**
 * Measures the sign-in section. `ctx.processes` tracks the serve it starts; `ctx.tmp` holds its
 * data; `ctx.serverCpu` pins it like the proxies. Never throws: errors are in `error`.
 */
export async function measureSignin(ctx, options = {}) {
  const signIns = options.quick ? 10 : 30;
  const calls = options.quick ? 400 : 2000; // a multiple of 8 (the blocks below)
  const result = { signIn: null, cookie: null, bearer: null, check: null, cpuPressure: cpuPressure(), error: null };
  let serve = null;
  try {
    const dir = mkdtempSync(join(ctx.tmp, 'signin-'));
    serve = await startServe(ctx.processes, dir, ctx.serverCpu ?? null);
    await signIn(serve.adminUrl); // warm-up: the first hash allocates its memory
    const signInSamples = [];
    let cookie = null;
    for (let i = 0; i < signIns; i++) {
      const sample = await signIn(serve.adminUrl);
      signInSamples.push(sample.elapsed);
      cookie = sample.cookie;
    }
    result.signIn = series(signInSamples);

    const withCookie = { cookie };
    const withBearer = { authorization: `Bearer ${serve.token}` };
    await timedCalls(serve.adminUrl, withCookie, 200); // warm-up
    await timedCalls(serve.adminUrl, withBearer, 200);
    const cookieSamples = [];
    const bearerSamples = [];
    // Eight blocks each, alternating which goes first, so drift in the machine's load hits both alike.
    const block = calls / 8;
    for (let round = 0; round < 8; round++) {
      const order = round % 2 === 0 ? [[withCookie, cookieSamples], [withBearer, bearerSamples]] : [[withBearer, bearerSamples], [withCookie, cookieSamples]];
      for (const [headers, samples] of order) samples.push(...(await timedCalls(serve.adminUrl, headers, block)));
    }
    result.cookie = series(cookieSamples);
    result.bearer = series(bearerSamples);
    result.check = await checkCostNs(dir, options.quick ? 100_000 : 500_000);
    result.check.shareOfCallPercent = (result.check.cookieNs / 1e6 / result.cookie.medianMs) * 100;
  } catch (error) {
    result.error = error.message.split('\n')[0];
  } finally {
    if (serve && serve.child.exitCode === null) {
      const exited = new Promise((resolve) => serve.child.once('exit', resolve));
      serve.child.kill('SIGTERM');
      const timer = setTimeout(() => serve.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
  result.failed = result.error !== null;
  return result;
}

/** PASS / MISS per sign-in target, in the shape evaluateTargets (report.mjs) gives. */
export function signinTargets(signin) {
  const [time, check] = SIGNIN_TARGETS;
  const line = (target, status, detail) => ({ id: target.id, text: target.text, status, detail });
  const out = [];
  if (signin.signIn) out.push(line(time, signin.signIn.medianMs <= time.limit ? 'PASS' : 'MISS', `${fmt(signin.signIn.medianMs)} ms (p95 ${fmt(signin.signIn.p95Ms)} ms)`));
  else out.push(line(time, 'MISS', `not measured: ${signin.error}`));
  const share = signin.check?.shareOfCallPercent;
  if (typeof share === 'number') out.push(line(check, share < check.limit ? 'PASS' : 'MISS', `${fmt(share, 3)}% (${fmt(signin.check.cookieNs)} ns of a ${fmt(signin.cookie.medianMs, 3)} ms call)`));
  else out.push(line(check, 'MISS', `not measured: ${signin.error}`));
  return out;
}

/** The lines the bench prints about sign-in. */
export function describeSignin(signin) {
  const lines = ['Sign-in (gatehouse serve on 127.0.0.1, argon2id m=19 MiB t=2 p=1):'];
  if (signin.cpuPressure && signin.cpuPressure.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${signin.cpuPressure.avg60}% of the last minute).`);
  if (signin.error) lines.push(`  ERROR: ${signin.error}`);
  const s = signin.signIn;
  if (s) lines.push(`  POST /auth/sign-in: median ${fmt(s.medianMs)} ms, p95 ${fmt(s.p95Ms)} ms over ${s.count} sign-ins`);
  const { cookie, bearer, check } = signin;
  if (cookie && bearer) {
    lines.push(`  GET /api/routes with the session cookie: median ${fmt(cookie.medianMs, 3)} ms, p95 ${fmt(cookie.p95Ms, 3)} ms (${cookie.count} calls)`);
    lines.push(`  GET /api/routes with the bearer token:   median ${fmt(bearer.medianMs, 3)} ms, p95 ${fmt(bearer.p95Ms, 3)} ms (${bearer.count} calls)`);
    lines.push(`  cookie ÷ bearer (median): ${fmt(cookie.medianMs / bearer.medianMs, 3)}`);
  }
  if (check) {
    lines.push(
      `  the check alone (in process): cookie ${fmt(check.cookieNs)} ns, bearer ${fmt(check.bearerNs)} ns per request; ` +
        `the cookie check is ${fmt(check.shareOfCallPercent, 3)}% of an API call`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-signin-'));
  const quick = process.argv.includes('--quick');
  try {
    const signin = await measureSignin({ processes, tmp, serverCpu: null }, { quick });
    console.log(describeSignin(signin));
    for (const t of signinTargets(signin)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
    process.exitCode = signin.failed ? 1 : 0;
  } finally {
    await processes.stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}
