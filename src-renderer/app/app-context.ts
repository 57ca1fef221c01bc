// How pages reach the shared state and the router: through Svelte context, set once by App.svelte,
// so a page folder needs no import wiring to the shell.
import { createContext } from 'svelte';
import type { HashRouter } from '../shell/router.svelte.js';
import type { AppState } from './app-state.svelte.js';

export const [getAppState, setAppState] = createContext<AppState>();
export const [getRouter, setRouter] = createContext<HashRouter>();
