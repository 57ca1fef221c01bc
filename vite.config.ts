// Builds the renderer (src-renderer/) into dist/renderer/. Relative asset URLs (`base: './'`) let the
// same build load from file:// in Electron and from `gatehouse serve`'s admin port.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: `${root}src-renderer`,
  base: './',
  plugins: [svelte({ configFile: `${root}svelte.config.js` })],
  build: {
    outDir: `${root}dist/renderer`,
    emptyOutDir: true,
    // Electron 45's Chromium and every browser that opens the admin UI support this.
    target: 'es2022',
    // No source maps in the shipped app: they would only make the package bigger.
    sourcemap: false,
  },
});
