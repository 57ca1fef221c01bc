#!/usr/bin/env node
// The `gatehouse` command. Runs the compiled CLI (tsc output of tsconfig.main.json), so a checkout
// needs `npm run build` once before `gatehouse serve` works.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/node/src-main/headless/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(`gatehouse: not built yet. Run "npm run build" in ${fileURLToPath(new URL('..', import.meta.url))} first.`);
  process.exit(1);
}
const { main } = await import(cli.href);
process.exit(await main(process.argv.slice(2)));
