// Gatehouse's memory: RSS when idle after startup, and RSS sampled every 250 ms before, during and
// after one 1 GiB download through the proxy. A proxy that streams keeps it flat; one that
// buffers a body grows by the body's size. Then (measureIdleConnections) RSS with 10,000 idle
// keep-alive connections open, each after one request, and after they close.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_HOST, ONE_GIB, ONE_GIB_PATH, SMALL_BODY, SMALL_PATH } from './content.mjs';
import { treeRssMiB } from './processes.mjs';

const SAMPLE_MS = 250;
/** How close to idle RSS must come back after the 1 GiB transfer (the target), and how long it may take. */
const AFTER_WITHIN_MIB = 10;
const AFTER_MAX_MS = 90_000;

/** Downloads `path` through the proxy, discarding the body; resolves {status, bytes, seconds}. */
function download(port, path) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: BENCH_HOST }, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
      res.on('error', reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error('the 1 GiB download stalled for 120 s')));
    req.on('error', reject);
    req.end();
  });
}

async function sampleFor(pid, ms, into) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    into.push(treeRssMiB(pid));
    await sleep(SAMPLE_MS);
  }
}

/**
 * Measures idle RSS (after `settleMs` without traffic) and RSS across a 1 GiB transfer.
 * All values in MiB. `maxDeviation` is the largest distance of any sample from the idle value
 * taken just before the transfer; `spread` is max − min over every sample.
 */
export async function measureMemory(pid, port, { settleMs = 1000, backWithinMs = AFTER_MAX_MS } = {}) {
  await sleep(settleMs);
  const idle = treeRssMiB(pid);
  const before = [];
  await sampleFor(pid, 3 * SAMPLE_MS, before);
  const during = [];
  let transferring = true;
  const sampler = (async () => {
    while (transferring) {
      during.push(treeRssMiB(pid));
      await sleep(SAMPLE_MS);
    }
  })();
  let transfer;
  try {
    transfer = await download(port, ONE_GIB_PATH);
  } finally {
    transferring = false;
    await sampler;
  }
  // Back to idle: V8 keeps the young generation a busy moment grew until its memory reducer runs
  // (tens of seconds into idleness), so RSS is sampled until it is within AFTER_WITHIN_MIB of the
  // idle value, or AFTER_MAX_MS has passed; how long it took is part of the result.
  const after = [];
  const transferEnded = Date.now();
  let backAfterMs = null;
  while (Date.now() - transferEnded < backWithinMs) {
    after.push(treeRssMiB(pid));
    if (after.length >= 8 && (after.at(-1) ?? Infinity) - idle <= AFTER_WITHIN_MIB) {
      backAfterMs = Date.now() - transferEnded;
      break;
    }
    await sleep(SAMPLE_MS * 4);
  }
  if (transfer.status !== 200 || transfer.bytes !== ONE_GIB) {
    throw new Error(`the 1 GiB download through Gatehouse got HTTP ${transfer.status} and ${transfer.bytes} of ${ONE_GIB} bytes`);
  }
  const all = [...before, ...during, ...after];
  const reference = before[0] ?? idle;
  return {
    idleMiB: round(idle),
    beforeMiB: round(reference),
    duringMinMiB: round(Math.min(...during)),
    duringMaxMiB: round(Math.max(...during)),
    afterMiB: round(after.at(-1) ?? NaN),
    afterDeltaMiB: round((after.at(-1) ?? NaN) - idle),
    minMiB: round(Math.min(...all)),
    maxMiB: round(Math.max(...all)),
    spreadMiB: round(Math.max(...all) - Math.min(...all)),
    maxDeviationMiB: round(Math.max(...all.map((v) => Math.abs(v - reference)))),
    /** Seconds from the transfer's end until RSS was back within AFTER_WITHIN_MIB of idle (null: not within `backWithinMs`). */
    backAfterSeconds: backAfterMs === null ? null : round(backAfterMs / 1000),
    /** How long RSS was sampled after the transfer. */
    afterSampledSeconds: round((Date.now() - transferEnded) / 1000),
    samples: { before: before.map(round), during: during.map(round), after: after.map(round) },
    transferSeconds: round(transfer.seconds),
    transferMBps: round(ONE_GIB / transfer.seconds / 1e6),
  };
}

function round(value) {
  return Math.round(value * 10) / 10;
}

/** The soft and hard limits on open files of a process (/proc/PID/limits), or null. */
export function openFileLimit(pid) {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    const value = (v) => (v === 'unlimited' ? Infinity : Number(v));
    return match ? { soft: value(match[1]), hard: value(match[2]) } : null;
  } catch {
    return null;
  }
}

/** Open file descriptors of a process (its /proc/PID/fd), or null when unreadable. */
function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/**
 * One keep-alive connection that sends GET / and waits for the whole small answer, then stays
 * open. Resolves the socket; rejects on a refusal, an error or a wrong answer.
 */
function openIdle(port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const fail = (error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(`GET ${SMALL_PATH} HTTP/1.1\r\nHost: ${BENCH_HOST}\r\n\r\n`));
    socket.setEncoding('latin1');
    const onData = (chunk) => {
      text += chunk;
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
      if (!length) return fail(new Error(`an answer without content-length: ${text.slice(0, 80)}`));
      if (text.length - end - 4 < Number(length[1])) return;
      socket.off('data', onData);
      socket.setTimeout(0);
      if (!text.startsWith('HTTP/1.1 200') || !text.endsWith(SMALL_BODY)) return fail(new Error(`answered "${text.split('\r\n')[0]}"`));
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

/**
 * RSS of the proxy (`pid`, listening on `port` for bench.test) with `count` keep-alive connections
 * open and idle, each after one request, opened `batch` at a time; then after they are closed.
 * The proxy's keep-alive timeout must be longer than the measurement. Never throws for refused
 * connections: `opened` says how many got an answer and `refused` why the others did not (the
 * first reason), `openFiles` the limit the proxy runs with. All RSS values in MiB.
 */
export async function measureIdleConnections(pid, port, { count = 10_000, batch = 250, settleMs = 2000, timeoutMs = 10_000 } = {}) {
  const limit = openFileLimit(pid);
  const own = openFileLimit(process.pid);
  await sleep(settleMs);
  const idle = treeRssMiB(pid);
  const fdsBefore = openFds(pid);
  const sockets = [];
  let refused = 0;
  let firstRefusal = null;
  let peak = idle;
  const started = performance.now();
  for (let i = 0; i < count; i += batch) {
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(batch, count - i) }, () => openIdle(port, timeoutMs)));
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') sockets.push(outcome.value);
      else {
        refused++;
        firstRefusal ??= outcome.reason?.code ?? outcome.reason?.message ?? String(outcome.reason);
      }
    }
    peak = Math.max(peak, treeRssMiB(pid));
  }
  const openSeconds = (performance.now() - started) / 1000;
  await sleep(settleMs);
  const open = treeRssMiB(pid);
  const fdsOpen = openFds(pid);
  // A connection the proxy closed (its keep-alive timeout) has ended and been destroyed here.
  const stillOpen = sockets.filter((socket) => !socket.destroyed).length;
  for (const socket of sockets) socket.destroy();
  await sleep(settleMs);
  const after = treeRssMiB(pid);
  await sleep(settleMs);
  const afterLater = treeRssMiB(pid);
  return {
    count,
    opened: sockets.length,
    stillOpen,
    refused,
    firstRefusal,
    openSeconds: round(openSeconds),
    idleMiB: round(idle),
    openMiB: round(open),
    peakMiB: round(peak),
    perConnectionKiB: sockets.length ? round(((open - idle) * 1024) / sockets.length) : null,
    afterMiB: round(after),
    afterLaterMiB: round(afterLater),
    proxyFds: { before: fdsBefore, open: fdsOpen },
    openFiles: { proxy: limit, bench: own },
  };
}
