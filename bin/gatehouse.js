#!/usr/bin/env -S node --v8-pool-size=0
// The `gatehouse` command. Runs the compiled CLI (tsc output of tsconfig.main.json), so a checkout
// needs `npm run build` once before `gatehouse serve` works.
// The flag on the first line sizes V8's pool of helper threads (garbage collection, compilation)
// to the CPUs the process may use, one fewer than their count, where Node's default is always 4:
// on a small box (or one core) four helpers only queue behind the proxy's own thread in every
// collection. Measured: small-request p99 ×0.72, HTTP/2 p99 ×0.8, the same req/s, 3 threads and
// ~2.5 MiB less idle (docs/performance.md). `npm run serve` passes the same flag; the bench reads
// it from this line.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/node/src-main/headless/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(`gatehouse: not built yet. Run "npm run build" in ${fileURLToPath(new URL('..', import.meta.url))} first.`);
  process.exit(1);
}
const { main } = await import(cli.href);
process.exit(await main(process.argv.slice(2)));
