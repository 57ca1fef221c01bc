// Over HTTPS the session cookie is `__Host-gatehouse-session` with Secure: the admin server runs in
// its own HTTPS mode here (as it does off loopback), and the plain-HTTP cookie name is not accepted on it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { AdminServer } from '../../src-main/headless/admin-server.js';
import { AdminAuth } from '../../src-main/headless/auth/admin-auth.js';
import { AuthRoutes } from '../../src-main/headless/auth/auth-routes.js';
import { client, PASSWORD } from '../helpers/auth.js';
import { makeDataDir } from '../helpers/serve.js';
import { makeTestCertificate } from '../helpers/test-certificates.js';

describe('the session cookie over HTTPS', () => {
  let gateway: Gateway;
  let auth: AdminAuth;
  let admin: AdminServer;
  let baseUrl: string;

  before(async () => {
    const dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    auth = await AdminAuth.open({ dataDir, token: 's'.repeat(43) });
    const certificate = await makeTestCertificate({ commonName: 'localhost', names: ['localhost'] });
    const served = { certificatePem: certificate.pem, privateKeyPem: certificate.keyPem };
    admin = new AdminServer({ gateway, auth: new AuthRoutes(auth), rendererDir: dataDir, tls: { current: served, onChange: () => () => {} } });
    const listener = await admin.listen('127.0.0.1', 0);
    baseUrl = `https://127.0.0.1:${listener.port}/`;
    await client(baseUrl).request('/auth/password', { body: { newPassword: PASSWORD }, headers: { authorization: `Bearer ${'s'.repeat(43)}` } });
  });
  after(async () => {
    await admin.close();
    await auth.close();
    await gateway.close();
  });

  test('sign-in sets __Host-gatehouse-session with Secure, HttpOnly, SameSite=Strict, Path=/ and no Domain', async () => {
    const browser = client(baseUrl);
    const answer = await browser.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(answer.status, 200, answer.text);
    const cookie = answer.headers.get('set-cookie')!;
    assert.match(cookie, /^__Host-gatehouse-session=[A-Za-z0-9_-]{43}; /);
    const attributes = cookie.split('; ').slice(1);
    for (const wanted of ['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(attributes.includes(wanted), `${wanted} in ${cookie}`);
    assert.ok(!attributes.some((attribute) => attribute.startsWith('Domain')));
    assert.equal((await browser.request('/api/routes')).status, 200);
    const plainName = await client(baseUrl).request('/api/routes', { headers: { cookie: `gatehouse-session=${browser.cookie}` } });
    assert.equal(plainName.status, 401);
    const out = await browser.request('/auth/sign-out', { method: 'POST' });
    assert.match(out.headers.get('set-cookie')!, /^__Host-gatehouse-session=; .*Max-Age=0.*; Secure$/);
  });
});
