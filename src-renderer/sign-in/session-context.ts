// How the navigation and the Sign-in & security page reach the session: through Svelte context, set
// by the web UI's root (SignInGate). The Electron window sets none, so getSession() is null there.
import { getContext, setContext } from 'svelte';
import type { Session } from './session.svelte.js';

const key = Symbol('gatehouse.session');

export function setSession(session: Session): void {
  setContext(key, session);
}

/** The web UI's session, or null in the Electron window (which needs no sign-in). */
export function getSession(): Session | null {
  return getContext<Session | undefined>(key) ?? null;
}
