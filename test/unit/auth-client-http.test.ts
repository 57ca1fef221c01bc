// The web UI's sign-in client (src-renderer/transport/auth.ts) against a real node:http server on
// 127.0.0.1:0: each endpoint of shared/admin-auth.ts with its method, path and JSON body, the
// session cookie and never a token, answers read as the contract types them, and refusals (wrong
// password, rate limit) kept as the ApiError the form shows.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { authEndpoints, type AuthState } from '../../shared/admin-auth.js';
import { ApiError } from '../../shared/api.js';
import { createAuthClient, type AuthClient } from '../../src-renderer/transport/auth.js';

interface Seen {
  method: string;
  path: string;
  cookie: string | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

const SESSION_COOKIE = 'gatehouse_session=abc';
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const signedIn: AuthState = {
  passwordSet: true,
  signedIn: true,
  via: 'session',
  session: { createdAt: 1, idleExpiresAt: 2, absoluteExpiresAt: 3 },
  totpEnabled: false,
  recoveryCodesLeft: 0,
  sessionCount: 1,
};

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let reply: (res: ServerResponse, seen: Seen) => void;

/** Node's fetch keeps no cookies: this one sends the session cookie when the client asks for credentials. */
const cookieFetch: typeof fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (init.credentials === 'same-origin' || init.credentials === 'include') headers.set('cookie', SESSION_COOKIE);
  return globalThis.fetch(input, { ...init, headers });
};

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        cookie: req.headers.cookie,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      reply(res, entry);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

beforeEach(() => {
  seen = [];
  reply = (res) => json(res, 200, {});
});

const client = (): AuthClient => createAuthClient({ baseUrl, fetch: cookieFetch });

describe('auth client: requests', () => {
  it('sends every endpoint with its method, path and JSON body, with the cookie and no token', async () => {
    const auth = client();
    const calls: Record<keyof typeof authEndpoints, [() => Promise<unknown>, unknown]> = {
      state: [() => auth.state(), undefined],
      signIn: [() => auth.signIn({ password: 'correct horse battery', code: '123456' }), { password: 'correct horse battery', code: '123456' }],
      signOut: [() => auth.signOut(), {}],
      signOutEverywhere: [() => auth.signOutEverywhere(), {}],
      setPassword: [() => auth.setPassword({ currentPassword: 'old password!', newPassword: 'a new long password' }), { currentPassword: 'old password!', newPassword: 'a new long password' }],
      beginTotp: [() => auth.beginTotp({ password: 'pw' }), { password: 'pw' }],
      confirmTotp: [() => auth.confirmTotp({ code: '654321' }), { code: '654321' }],
      disableTotp: [() => auth.disableTotp({ password: 'pw' }), { password: 'pw' }],
      rotateToken: [() => auth.rotateToken({ password: 'pw' }), { password: 'pw' }],
    };
    for (const [name, [call, body]] of Object.entries(calls)) {
      await call();
      const request = seen.at(-1)!;
      const endpoint = authEndpoints[name as keyof typeof authEndpoints];
      assert.equal(request.method, endpoint.method, name);
      assert.equal(request.path, endpoint.path, name);
      assert.equal(request.cookie, SESSION_COOKIE, name);
      assert.equal(request.authorization, undefined, name);
      if (body === undefined) {
        assert.equal(request.body, '', name);
      } else {
        assert.equal(request.contentType, 'application/json', name);
        assert.deepEqual(JSON.parse(request.body), body, name);
      }
    }
    assert.equal(seen.length, Object.keys(authEndpoints).length);
  });
});

describe('auth client: answers', () => {
  it('returns the state, the sign-in result, the enrolment and the new token as sent', async () => {
    const auth = client();
    reply = (res) => json(res, 200, signedIn);
    assert.deepEqual(await auth.state(), signedIn);
    reply = (res) => json(res, 200, { state: { ...signedIn, signedIn: false }, needsCode: true });
    assert.equal((await auth.signIn({ password: 'x' })).needsCode, true);
    reply = (res) => json(res, 200, { secret: 'JBSWY3DPEHPK3PXP', uri: 'otpauth://totp/Gatehouse:admin?secret=JBSWY3DPEHPK3PXP&issuer=Gatehouse' });
    assert.equal((await auth.beginTotp({ password: 'x' })).secret, 'JBSWY3DPEHPK3PXP');
    reply = (res) => json(res, 200, { token: 'n'.repeat(43) });
    assert.equal((await auth.rotateToken({ password: 'x' })).token, 'n'.repeat(43));
  });

  it('accepts an empty answer where nothing is returned', async () => {
    reply = (res) => {
      res.writeHead(204);
      res.end();
    };
    await client().signOut();
    await client().setPassword({ newPassword: 'a long enough one' });
  });

  it('keeps a wrong password as an unauthorized ApiError with the server message', async () => {
    reply = (res) => json(res, 401, { error: { code: 'unauthorized', message: 'That password is not right.' } });
    await assert.rejects(
      client().signIn({ password: 'nope' }),
      (error) => error instanceof ApiError && error.code === 'unauthorized' && error.message === 'That password is not right.',
    );
  });

  it('keeps a rate limit as rate_limited, with when to try again', async () => {
    reply = (res) => json(res, 429, { error: { code: 'rate_limited', message: 'Too many failed sign-ins. Try again in 5 minutes.' } });
    await assert.rejects(client().signIn({ password: 'nope' }), (error) => error instanceof ApiError && error.code === 'rate_limited' && /5 minutes/.test(error.message));
  });

  it('keeps field issues for the form', async () => {
    reply = (res) => json(res, 400, { error: { code: 'invalid_input', message: 'Invalid', issues: [{ path: 'newPassword', message: 'use at least 10 characters' }] } });
    await assert.rejects(client().setPassword({ newPassword: 'short' }), (error) => error instanceof ApiError && error.details.issues?.[0]?.path === 'newPassword');
  });

  it('says so when Gatehouse cannot be reached', async () => {
    const unreachable = createAuthClient({ baseUrl: 'http://127.0.0.1:1', fetch: globalThis.fetch });
    await assert.rejects(unreachable.state(), (error) => error instanceof ApiError && /could not be reached/.test(error.message));
  });
});
