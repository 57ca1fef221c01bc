// Gatehouse's memory: RSS when idle after startup, and RSS sampled every 250 ms before, during and
// after one 1 GiB download through the proxy. A proxy that streams keeps it flat; one that
// buffers a body grows by the body's size.
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_HOST, ONE_GIB, ONE_GIB_PATH } from './content.mjs';
import { treeRssMiB } from './processes.mjs';

const SAMPLE_MS = 250;

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
export async function measureMemory(pid, port, { settleMs = 1000 } = {}) {
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
  const after = [];
  await sampleFor(pid, 2000, after);
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
    minMiB: round(Math.min(...all)),
    maxMiB: round(Math.max(...all)),
    spreadMiB: round(Math.max(...all) - Math.min(...all)),
    maxDeviationMiB: round(Math.max(...all.map((v) => Math.abs(v - reference)))),
    samples: { before: before.map(round), during: during.map(round), after: after.map(round) },
    transferSeconds: round(transfer.seconds),
    transferMBps: round(ONE_GIB / transfer.seconds / 1e6),
  };
}

function round(value) {
  return Math.round(value * 10) / 10;
}
