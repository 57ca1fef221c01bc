// The sign-in endpoints of `gatehouse serve` (shared/admin-auth.ts) for the web UI: one function per
// endpoint over a `fetch` passed in, so it runs (and is tested) under plain Node as well. Answers
// and failures are read the way the API transport reads them; a 401 here is an answer for the form
// (wrong password, wrong code), not a sign that the session ended.
import {
  authEndpoints,
  type AuthState,
  type RotatedToken,
  type SetPasswordInput,
  type SignInInput,
  type SignInResult,
  type TotpConfirmed,
  type TotpEnrolment,
} from '../../shared/admin-auth.js';
import { ApiError } from '../../shared/api.js';
import { readResponse } from './http.js';

export interface AuthClient {
  state(): Promise<AuthState>;
  signIn(input: SignInInput): Promise<SignInResult>;
  signOut(): Promise<void>;
  signOutEverywhere(): Promise<void>;
  setPassword(input: SetPasswordInput): Promise<void>;
  beginTotp(input: { password: string }): Promise<TotpEnrolment>;
  confirmTotp(input: { code: string }): Promise<TotpConfirmed>;
  disableTotp(input: { password: string }): Promise<void>;
  rotateToken(input: { password: string }): Promise<RotatedToken>;
}

export interface AuthClientOptions {
  /** The admin's origin, e.g. "http://127.0.0.1:4780" (the page's own origin). */
  baseUrl: string;
  fetch: typeof fetch;
}

type Endpoint = keyof typeof authEndpoints;

export function createAuthClient(options: AuthClientOptions): AuthClient {
  async function send(endpoint: Endpoint, body?: unknown): Promise<unknown> {
    const { method, path } = authEndpoints[endpoint];
    const headers: Record<string, string> = { Accept: 'application/json' };
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (method === 'POST') {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body ?? {});
    }
    let response: Response;
    try {
      response = await options.fetch(new URL(path, options.baseUrl).href, init);
    } catch {
      throw new ApiError('internal', 'Gatehouse could not be reached.', {
        fix: 'Check that `gatehouse serve` is still running, then try again.',
      });
    }
    return readResponse(response);
  }

  return {
    state: async () => (await send('state')) as AuthState,
    signIn: async (input) => (await send('signIn', input)) as SignInResult,
    signOut: async () => void (await send('signOut')),
    signOutEverywhere: async () => void (await send('signOutEverywhere')),
    setPassword: async (input) => void (await send('setPassword', input)),
    beginTotp: async (input) => (await send('beginTotp', input)) as TotpEnrolment,
    confirmTotp: async (input) => (await send('confirmTotp', input)) as TotpConfirmed,
    disableTotp: async (input) => void (await send('disableTotp', input)),
    rotateToken: async (input) => (await send('rotateToken', input)) as RotatedToken,
  };
}
