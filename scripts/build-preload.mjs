#!/usr/bin/env node
// Bundles the preload to one CommonJS file. A sandboxed preload runs in a restricted require() that
// knows only a few electron modules, so it cannot load our other files: everything it imports
// (the channel names in bridge.ts) is inlined here, and `electron` stays external.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['src-main/electron/preload.ts'],
  outfile: 'dist/node/src-main/electron/preload.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // The same language level as the rest of the project (tsconfig.base.json); Electron 45 runs far newer.
  target: 'es2022',
  external: ['electron'],
  sourcemap: 'linked',
  logLevel: 'warning',
});
