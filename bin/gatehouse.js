#!/usr/bin/env -S node --max-semi-space-size=32
// The `gatehouse` command. Runs the compiled CLI (tsc output of tsconfig.main.json), so a checkout
// needs `npm run build` once before `gatehouse serve` works.
// The flag on the first line gives V8 a 32 MiB young generation (semi-space) instead of 16: a busy
// proxy allocates per request, and with the larger one it collects a third as often and promotes
// less, for ×1.12–1.20 small requests a second in the bench (docs/performance.md), at the same idle
// RSS. `npm run serve` passes the same flag; bench/gatehouse.mjs reads it from this line.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/node/src-main/headless/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(`gatehouse: not built yet. Run "npm run build" in ${fileURLToPath(new URL('..', import.meta.url))} first.`);
  process.exit(1);
}
const { main } = await import(cli.href);
process.exit(await main(process.argv.slice(2)));
