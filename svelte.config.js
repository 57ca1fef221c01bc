// Svelte's compiler settings, read by the Vite plugin and by svelte-check.
/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  compilerOptions: {
    // Every component uses runes ($state, $derived, $props); legacy syntax is a compile error.
    runes: true,
  },
};
