// Preloaded into the soak's `gatehouse serve` (NODE_OPTIONS=--expose-gc --import …) by bench/soak.mjs:
// every GATEHOUSE_SOAK_PROBE_MS it collects garbage (so the heap figure is what is really kept, not
// the young generation's churn) and writes process.memoryUsage() to GATEHOUSE_SOAK_PROBE_DIR/<pid>.json.
// Changes nothing else in the process; its timer does not keep the process alive.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.GATEHOUSE_SOAK_PROBE_DIR;
if (dir) {
  const every = Number(process.env.GATEHOUSE_SOAK_PROBE_MS) || 10_000;
  const file = join(dir, `${process.pid}.json`);
  const sample = () => {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    const m = process.memoryUsage();
    writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), gc: typeof globalThis.gc === 'function', ...m }));
    renameSync(`${file}.tmp`, file);
  };
  setTimeout(sample, 200).unref();
  setInterval(sample, every).unref();
}
