// slowhttptest, an independent attacker, against the engine on 127.0.0.1: a slowloris run (50
// connections trickling headers) and a slow-body run (50 POSTs trickling their bodies). With small
// timeouts the engine must cut every slow connection on its own, well before the run's time limit,
// while normal requests sent during the attack keep being answered promptly; afterwards it is healthy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getThrough, startProxy, startRecordingUpstream, testRoute, type ProxyUnderTest, type RecordingUpstream } from '../helpers/raw-http.js';
import { findTool, needTools } from '../helpers/tools.js';

const skip = needTools(['slowhttptest', 'slowhttptest']);
/** slowhttptest's own limit on each run, in seconds; the engine should end it much sooner. */
const RUN_SECONDS = 8;

interface Run {
  output: string;
  ms: number;
  /** The second slowhttptest stopped on. */
  endedOn: number;
}

/** Runs slowhttptest with `args`, killing it by PID if it outlives `RUN_SECONDS` + 4 s. */
function slowhttptest(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(findTool('slowhttptest') as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const killer = setTimeout(() => child.kill('SIGKILL'), (RUN_SECONDS + 4) * 1000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(killer);
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
      const ended = /Test ended on (\d+)th second/.exec(plain);
      resolve({ output: plain, ms: performance.now() - started, endedOn: ended ? Number(ended[1]) : Number.NaN });
    });
  });
}

/** Sends normal requests every 100 ms until `until` settles; returns their statuses and the slowest time. */
async function normalTraffic(port: number, until: Promise<unknown>): Promise<{ statuses: number[]; slowestMs: number }> {
  let done = false;
  void until.finally(() => (done = true));
  const statuses: number[] = [];
  let slowestMs = 0;
  while (!done) {
    const started = performance.now();
    const response = await getThrough(port, 'svc.example', '/during').catch(() => ({ status: 0 }));
    slowestMs = Math.max(slowestMs, performance.now() - started);
    statuses.push(response.status);
    await sleep(100);
  }
  return { statuses, slowestMs };
}

describe('slowhttptest against the engine', { skip }, () => {
  let upstream: RecordingUpstream;
  let proxy: ProxyUnderTest;

  before(async () => {
    upstream = await startRecordingUpstream('svc');
    // slowhttptest sends Host: 127.0.0.1:PORT; the route table is given that name directly.
    proxy = await startProxy([testRoute('svc', ['svc.example', '127.0.0.1'], upstream.url)], { headersMs: 2000, clientIdleMs: 1000, keepAliveMs: 1000 });
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  test('slowloris (-H, 50 connections): every slow head is cut by headersMs while normal requests are served', async () => {
    const logged = proxy.logged.length;
    const run = slowhttptest(['-H', '-c', '50', '-r', '50', '-i', '1', '-x', '10', '-p', '2', '-l', String(RUN_SECONDS), '-u', `http://127.0.0.1:${proxy.port}/`]);
    const traffic = await normalTraffic(proxy.port, run);
    const { output, endedOn } = await run;
    assert.match(output, /SLOW HEADERS/);
    assert.match(output, /number of connections:\s+50/);
    assert.match(output, /Exit status: No open connections left/, `the engine must close every slow connection itself:\n${output.slice(-600)}`);
    assert.ok(endedOn < RUN_SECONDS, `ended on second ${endedOn}, not before the ${RUN_SECONDS} s limit`);
    assert.ok(traffic.statuses.length >= 10, `only ${traffic.statuses.length} normal requests ran`);
    assert.deepEqual(traffic.statuses.filter((s) => s !== 200), [], 'every normal request during the attack got 200');
    assert.ok(traffic.slowestMs < 1000, `a normal request took ${Math.round(traffic.slowestMs)} ms during the attack`);
    const timeouts = proxy.logged.slice(logged).filter((e) => e.status === 408 && e.error === 'request_timeout');
    assert.ok(timeouts.length >= 45, `${timeouts.length} heads were logged as timed out`);
  });

  test('slow body (-B, 50 POSTs): every stalled body is cut by clientIdleMs and its upstream request aborted', async () => {
    const seen = upstream.requests.length;
    const run = slowhttptest(['-B', '-c', '50', '-r', '50', '-i', '3', '-s', '4096', '-x', '10', '-p', '2', '-l', String(RUN_SECONDS), '-u', `http://127.0.0.1:${proxy.port}/`]);
    const traffic = await normalTraffic(proxy.port, run);
    const { output, endedOn } = await run;
    assert.match(output, /SLOW BODY/);
    assert.match(output, /Exit status: No open connections left/, output.slice(-600));
    assert.ok(endedOn < RUN_SECONDS, `ended on second ${endedOn}`);
    assert.ok(traffic.statuses.length >= 10);
    assert.deepEqual(traffic.statuses.filter((s) => s !== 200), []);
    assert.ok(traffic.slowestMs < 1000, `a normal request took ${Math.round(traffic.slowestMs)} ms during the attack`);
    const posts = upstream.requests.slice(seen).filter((r) => r.method === 'POST');
    assert.ok(posts.length >= 45, `${posts.length} slow POSTs reached the upstream`);
    await sleep(200);
    assert.deepEqual(posts.filter((r) => !r.aborted || r.complete), [], 'every slow POST was aborted upstream, none completed');
  });

  test('afterwards the engine is healthy', async () => {
    const response = await getThrough(proxy.port, 'svc.example', '/after');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'ok from svc');
  });
});
