// The forward-auth round trip in Chromium: open the app → Gatehouse asks the sign-in server (a local
// server following Authelia's contract, itself another route on the same proxy) → redirected to its
// login page → fill in the form → the session cookie is set for the parent domain and the browser
// is sent back → the app opens and shows the Remote-User it received from Gatehouse.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startFakeAuthelia, type FakeAuthelia } from '../fixtures/fake-authelia.js';
import { browserMissing, CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/browser.js';
import { provider, signInRoute, startSignInProxy, type SignInProxy } from '../helpers/sign-in-proxy.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const DOMAIN = 'signin-test.example';

describe('forward auth in Chromium: the redirect-to-login round trip', { skip: browserMissing() }, () => {
  let authelia: FakeAuthelia;
  let app: Upstream;
  let proxy: SignInProxy;
  let browser: Browser;

  before(async () => {
    authelia = await startFakeAuthelia({ alice: { password: 'alice password 1', email: 'alice@example.test', groups: ['family'], displayName: 'Alice' } });
    app = await startUpstream((req, res) => {
      const user = String(req.headers['remote-user'] ?? '(nobody)').replace(/[<&]/g, '');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>App</title><p id="user">Signed in as ${user}</p>`);
    });
    proxy = await startSignInProxy(
      [
        signInRoute('app', app.url, [`app.${DOMAIN}`], { method: 'forward', providerId: 'authelia' }, { title: 'App' }),
        // The sign-in server's own portal, reached through the same proxy with no sign-in.
        signInRoute('auth', authelia.url, [`auth.${DOMAIN}`], { method: 'none' }),
      ],
      { providers: [provider('authelia', 'authelia', `${authelia.url}/api/authz/forward-auth`)] },
    );
    authelia.portalUrl = `http://auth.${DOMAIN}:${proxy.port}`;
    authelia.cookieDomain = DOMAIN;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`], headless: true });
  });

  after(async () => {
    await browser?.close();
    await proxy?.stop();
    await Promise.all([authelia?.close(), app?.close()]);
  });

  test('signing in on the provider\'s page leads back to the app, which sees Remote-User', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const target = `http://app.${DOMAIN}:${proxy.port}/photos?album=1`;
      await page.goto(target);
      // Redirected to the sign-in server's login page, which was told where to send us back.
      assert.equal(new URL(page.url()).host, `auth.${DOMAIN}:${proxy.port}`);
      assert.equal(new URL(page.url()).searchParams.get('rd'), target);
      assert.equal(app.requests.length, 0, 'the app was not reached before signing in');
      await page.fill('#username', 'alice');
      await page.fill('#password', 'alice password 1');
      await Promise.all([page.waitForURL(target), page.click('#sign-in')]);
      assert.equal(await page.textContent('#user'), 'Signed in as alice');
      // A reload stays signed in: the cookie rides every request and the provider says yes.
      await page.reload();
      assert.equal(await page.textContent('#user'), 'Signed in as alice');
    } finally {
      await context.close();
    }
  });
});
