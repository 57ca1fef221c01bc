// Node module hooks that let the renderer's unit tests import `*.svelte.ts` controllers: Vite's
// Svelte plugin compiles runes ($state, $derived) in the browser build, and under node:test this
// does the same two steps (strip the types with esbuild, then Svelte's compileModule).
// Registered by test/unit/renderer-*.test.ts with `module.register`; never part of the bundle.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { compileModule } from 'svelte/compiler';

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.svelte.ts')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const typescript = await readFile(filename, 'utf8');
  const { code: javascript } = await transform(typescript, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: filename });
  const compiled = compileModule(javascript, { filename, generate: 'client', dev: false });
  return { format: 'module', source: compiled.js.code, shortCircuit: true };
}
