// Lets a node:test file import the renderer's `*.svelte.ts` controllers: registers the hooks that
// compile runes the way Vite's Svelte plugin does. Import this first, then load controllers with a
// dynamic `await import(...)` (static imports are evaluated before the hooks exist). A test file
// that does so also needs `/// <reference types="svelte" />` for the runes' types.
import { register } from 'node:module';

register('./svelte-module-hooks.mjs', import.meta.url);
