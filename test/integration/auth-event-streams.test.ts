// An open GET /api/events ends with the sign-in that opened it: sign-out, sign-out everywhere, a
// password change (from the web UI or `gatehouse set-password`), token rotation for a stream opened
// with the bearer, and idle expiry. Real admin servers in this process with the sign-in clock
// injected; `quick` pings every 50 ms (expiry is noticed on the next ping), `slow` once a minute
// (so anything ended there was ended by the change itself, not by a ping).
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { AdminServer } from '../../src-main/headless/admin-server.js';
import { AdminAuth } from '../../src-main/headless/auth/admin-auth.js';
import { AuthRoutes } from '../../src-main/headless/auth/auth-routes.js';
import { PASSWORD, runSetPassword, signedInClient, type Client } from '../helpers/auth.js';
import { makeDataDir } from '../helpers/serve.js';

const MINUTE = 60_000;
const TOKEN = 'f'.repeat(43);

interface Stream {
  /** Resolves true when the server ends the stream within `ms`, false if it is still open then. */
  endsWithin(ms: number): Promise<boolean>;
  close(): void;
}

/** Opens the event stream and waits for its first event (the status). */
function openStream(baseUrl: string, headers: Record<string, string>): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const request = get(new URL('/api/events', baseUrl), { headers }, (response: IncomingMessage) => {
      if (response.statusCode !== 200) return reject(new Error(`event stream answered ${response.statusCode}`));
      const ended = new Promise<void>((done) => {
        response.once('end', done);
        response.once('close', done);
        response.once('error', () => done());
      });
      response.setEncoding('utf8');
      let text = '';
      response.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('event: status')) {
          resolve({
            endsWithin: (ms) => Promise.race([ended.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]),
            close: () => request.destroy(),
          });
        }
      });
    });
    request.on('error', reject);
  });
}

const cookieOf = (browser: Client & { cookieName: string | null }) => ({ cookie: `${browser.cookieName}=${browser.cookie}` });

describe('event streams end with their sign-in', () => {
  let dataDir: string;
  let gateway: Gateway;
  let auth: AdminAuth;
  let slow: AdminServer;
  let quick: AdminServer;
  let slowUrl: string;
  let quickUrl: string;
  let now = Date.now();
  const opened: Stream[] = [];
  const open = async (baseUrl: string, headers: Record<string, string>) => {
    const stream = await openStream(baseUrl, headers);
    opened.push(stream);
    return stream;
  };

  before(async () => {
    dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    auth = await AdminAuth.open({ dataDir, token: TOKEN, now: () => now, sessionLimits: { idleMs: 10 * MINUTE, absoluteMs: 60 * MINUTE } });
    slow = new AdminServer({ gateway, auth: new AuthRoutes(auth), rendererDir: dataDir, pingMs: MINUTE });
    quick = new AdminServer({ gateway, auth: new AuthRoutes(auth), rendererDir: dataDir, pingMs: 50 });
    slowUrl = `http://127.0.0.1:${(await slow.listen('127.0.0.1', 0)).port}/`;
    quickUrl = `http://127.0.0.1:${(await quick.listen('127.0.0.1', 0)).port}/`;
  });
  after(async () => {
    for (const stream of opened) stream.close();
    await Promise.all([slow.close(), quick.close()]);
    await auth.close();
    await gateway.close();
  });

  test('sign-out ends the stream that session opened, and only that one', async () => {
    const [mine, other] = await Promise.all([signedInClient(slowUrl), signedInClient(slowUrl)]);
    const [myStream, otherStream] = await Promise.all([open(slowUrl, cookieOf(mine)), open(slowUrl, cookieOf(other))]);
    assert.equal((await mine.request('/auth/sign-out', { method: 'POST', body: {} })).status, 200);
    assert.equal(await myStream.endsWithin(3000), true, 'the signed-out session still receives events');
    assert.equal(await otherStream.endsWithin(300), false, 'another session’s stream must stay open');
  });

  test('sign-out everywhere ends every session’s stream', async () => {
    const [first, second] = await Promise.all([signedInClient(slowUrl), signedInClient(slowUrl)]);
    const stream = await open(slowUrl, cookieOf(second));
    assert.equal((await first.request('/auth/sign-out-everywhere', { method: 'POST', body: {} })).status, 200);
    assert.equal(await stream.endsWithin(3000), true);
  });

  test('a password change in the web UI ends the other sessions’ streams, not the changer’s', async () => {
    const [changer, other] = await Promise.all([signedInClient(slowUrl), signedInClient(slowUrl)]);
    const [own, others] = await Promise.all([open(slowUrl, cookieOf(changer)), open(slowUrl, cookieOf(other))]);
    const changed = await changer.request('/auth/password', { body: { currentPassword: PASSWORD, newPassword: `${PASSWORD} 2` } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(await others.endsWithin(3000), true);
    assert.equal(await own.endsWithin(300), false);
    const back = await changer.request('/auth/password', { body: { currentPassword: `${PASSWORD} 2`, newPassword: PASSWORD } });
    assert.equal(back.status, 200, back.text);
  });

  test('gatehouse set-password on the server ends every stream', async () => {
    const browser = await signedInClient(slowUrl);
    const stream = await open(slowUrl, cookieOf(browser));
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    assert.equal(await stream.endsWithin(5000), true);
  });

  test('token rotation ends streams opened with the old bearer token', async () => {
    const byToken = await open(slowUrl, { authorization: `Bearer ${auth.token}` });
    const browser = await signedInClient(slowUrl);
    const bySession = await open(slowUrl, cookieOf(browser));
    const rotated = await browser.request('/auth/token/rotate', { body: { password: PASSWORD } });
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(await byToken.endsWithin(3000), true);
    assert.equal(await bySession.endsWithin(300), false, 'a session’s stream does not depend on the token');
  });

  test('idle expiry ends the stream at the next ping; an open stream is not use', async () => {
    const browser = await signedInClient(quickUrl);
    const stream = await open(quickUrl, cookieOf(browser));
    assert.equal(await stream.endsWithin(300), false, 'pings alone must not end a live session’s stream');
    now += 10 * MINUTE + 1;
    assert.equal(await stream.endsWithin(3000), true);
    assert.equal((await browser.request('/api/settings')).status, 401);
  });
});
