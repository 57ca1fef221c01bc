// The HTTP side of sign-in: the /auth/ endpoints of shared/admin-auth.ts, and the check every /api/
// request passes (a session cookie or the bearer token). AdminServer calls `handle` for /auth/ paths
// and `apiCaller` for /api/ ones; nothing else of sign-in lives in admin-server.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import {
  ConfirmTotpInputSchema,
  ONE_TIME_LINK_PREFIX,
  PasswordConfirmationSchema,
  SetPasswordInputSchema,
  SignInInputSchema,
  authEndpoints,
} from '../../../shared/admin-auth.js';
import { ApiError, invalidInput } from '../../../shared/api.js';
import { bearerMatches } from '../admin-token.js';
import { HttpFailure } from '../http-failure.js';
import { readJsonBody } from '../request-body.js';
import type { AdminAuth, Caller } from './admin-auth.js';
import { SECURITY_HEADERS } from '../security-headers.js';
import { onceLinkPage, onceLinkRefusedPage } from './once-page.js';
import { cameOverHttps, clearedCookie, sessionCookie, sessionIdsFrom } from './session-cookie.js';

/** What AdminServer needs of sign-in. */
export interface AdminGate {
  /** How an /api/ request was let in, or null (401). Constant time per request: no I/O. */
  apiCaller(request: IncomingMessage): 'session' | 'token' | null;
  /** Whether the request's credentials would still let it in (an open event stream asks); no I/O, not counted as use. */
  stillValid(request: IncomingMessage): boolean;
  /** Runs `listener` whenever a session or the token may have ended; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Answers a request under /auth/. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void>;
}

/** A gate that knows only the bearer token: for an admin server embedded without a data directory. */
export function tokenOnlyGate(token: string): AdminGate {
  return {
    apiCaller: (request) => (bearerMatches(token, request.headers.authorization) ? 'token' : null),
    stillValid: (request) => bearerMatches(token, request.headers.authorization),
    onChange: () => () => undefined,
    handle: async () => {
      throw new ApiError('not_found', 'Sign-in is not offered here; send the admin token as "Authorization: Bearer TOKEN".');
    },
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}

function sendHtml(response: ServerResponse, status: number, page: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page), 'cache-control': 'no-store' });
  response.end(page);
}

const ONCE_CODE = /^[A-Za-z0-9_-]{20,100}$/;

async function parseBody<S extends z.ZodType>(request: IncomingMessage, schema: S): Promise<z.output<S>> {
  const result = schema.safeParse(await readJsonBody(request));
  if (!result.success) throw invalidInput(result.error);
  return result.data;
}

/** Whom failed attempts are counted against: the client's address (failure-limiter.ts groups IPv6 by network). */
const clientAddress = (request: IncomingMessage) => request.socket.remoteAddress ?? 'unknown';

type Handler = (request: IncomingMessage, response: ServerResponse, caller: Caller) => Promise<void>;

export class AuthRoutes implements AdminGate {
  readonly #handlers: Map<string, Handler>;

  constructor(private readonly auth: AdminAuth) {
    const ok = (response: ServerResponse, body: unknown) => sendJson(response, 200, body);
    const byName: Record<keyof typeof authEndpoints, Handler> = {
      state: async (_request, response, caller) => {
        await auth.refresh();
        ok(response, auth.state(caller));
      },
      signIn: async (request, response) => {
        const input = await parseBody(request, SignInInputSchema);
        const { result, id, session } = await auth.signIn(clientAddress(request), input.password, input.code);
        const headers: Record<string, string> = id && session ? { 'set-cookie': sessionCookie(id, auth.cookieLifeMs(session), cameOverHttps(request)) } : {};
        sendJson(response, 200, result, headers);
      },
      signOut: async (request, response, caller) => {
        await auth.signOut(caller);
        sendJson(response, 200, auth.state({ via: null }), { 'set-cookie': clearedCookie(cameOverHttps(request)) });
      },
      signOutEverywhere: async (request, response, caller) => {
        const state = await auth.signOutEverywhere(caller);
        sendJson(response, 200, state, { 'set-cookie': clearedCookie(cameOverHttps(request)) });
      },
      setPassword: async (request, response, caller) => {
        const input = await parseBody(request, SetPasswordInputSchema);
        ok(response, await auth.setPassword(clientAddress(request), caller, input));
      },
      beginTotp: async (request, response, caller) => {
        const input = await parseBody(request, PasswordConfirmationSchema);
        ok(response, await auth.beginTotp(clientAddress(request), caller, input.password));
      },
      confirmTotp: async (request, response, caller) => {
        const input = await parseBody(request, ConfirmTotpInputSchema);
        ok(response, await auth.confirmTotp(clientAddress(request), caller, input.code));
      },
      disableTotp: async (request, response, caller) => {
        const input = await parseBody(request, PasswordConfirmationSchema);
        ok(response, await auth.disableTotp(clientAddress(request), caller, input.password));
      },
      rotateToken: async (request, response, caller) => {
        const input = await parseBody(request, PasswordConfirmationSchema);
        ok(response, { token: await auth.rotateToken(clientAddress(request), caller, input.password) });
      },
    };
    this.#handlers = new Map(Object.entries(authEndpoints).map(([name, spec]) => [`${spec.method} ${spec.path}`, byName[name as keyof typeof authEndpoints]]));
  }

  apiCaller(request: IncomingMessage): 'session' | 'token' | null {
    return this.#caller(request).via;
  }

  stillValid(request: IncomingMessage): boolean {
    return this.auth.stillValid(sessionIdsFrom(request), request.headers.authorization);
  }

  onChange(listener: () => void): () => void {
    return this.auth.onChange(listener);
  }

  async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? 'GET';
    if (url.pathname.startsWith(ONE_TIME_LINK_PREFIX)) {
      const code = url.pathname.slice(ONE_TIME_LINK_PREFIX.length);
      // GET only shows a button: link previews, mail scanners and prefetch open links too, and
      // must not spend the link (and get the session) before its owner does.
      if (method === 'GET') this.#showOnceLink(response, code);
      else if (method === 'POST') await this.#useOnceLink(request, response, code);
      else throw new HttpFailure(405, 'not_found', 'A one-time link is opened with GET and used with POST (its page\'s button).', { allow: 'GET, POST' });
      return;
    }
    const handler = this.#handlers.get(`${method} ${url.pathname}`);
    if (!handler) {
      const allowed = Object.values(authEndpoints).filter((spec) => spec.path === url.pathname).map((spec) => spec.method);
      if (allowed.length > 0) throw new HttpFailure(405, 'not_found', `${url.pathname} does not take ${method}; it takes ${allowed.join(', ')}.`, { allow: allowed.join(', ') });
      throw new ApiError('not_found', `There is no sign-in endpoint ${method} ${url.pathname}; see docs/api.md for the list.`);
    }
    await handler(request, response, this.#caller(request));
  }

  #caller(request: IncomingMessage): Caller {
    return this.auth.identify(sessionIdsFrom(request), request.headers.authorization);
  }

  #showOnceLink(response: ServerResponse, code: string): void {
    if (!(ONCE_CODE.test(code) && this.auth.onceLinkLive(code))) {
      sendHtml(response, 410, onceLinkRefusedPage(false));
      return;
    }
    sendHtml(response, 200, onceLinkPage(`${ONE_TIME_LINK_PREFIX}${code}`), {
      // The page's own form posts here; the admin's global policy allows no form at all.
      'content-security-policy': SECURITY_HEADERS['content-security-policy']!.replace("form-action 'none'", "form-action 'self'"),
      // no-referrer would make the browser send "Origin: null" with the form, which the guard refuses.
      'referrer-policy': 'same-origin',
    });
  }

  async #useOnceLink(request: IncomingMessage, response: ServerResponse, code: string): Promise<void> {
    let signedIn: Awaited<ReturnType<AdminAuth['useOnceLink']>> = null;
    let limited = false;
    try {
      signedIn = ONCE_CODE.test(code) ? await this.auth.useOnceLink(clientAddress(request), code) : null;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'rate_limited')) throw error;
      limited = true;
    }
    if (signedIn) {
      response.writeHead(303, {
        location: '/',
        'set-cookie': sessionCookie(signedIn.id, this.auth.cookieLifeMs(signedIn.session), cameOverHttps(request)),
        'cache-control': 'no-store',
        'content-length': 0,
      });
      response.end();
      return;
    }
    sendHtml(response, limited ? 429 : 410, onceLinkRefusedPage(limited));
  }
}
