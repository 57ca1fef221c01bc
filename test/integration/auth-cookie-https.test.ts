// Over HTTPS the session cookie is `__Host-gatehouse-session` with Secure: the admin server's
// request handler runs behind a real TLS listener here (as it will once the admin serves HTTPS), and
// the plain-HTTP cookie name is not accepted on it.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
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
  let tls: Server;
  let baseUrl: string;

  before(async () => {
    const dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    auth = await AdminAuth.open({ dataDir, token: 's'.repeat(43) });
    admin = new AdminServer({ gateway, auth: new AuthRoutes(auth), rendererDir: dataDir });
    const certificate = await makeTestCertificate({ commonName: 'localhost', names: ['localhost'] });
    tls = createServer({ cert: certificate.pem, key: certificate.keyPem }, (request, response) => admin.server.emit('request', request, response));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    baseUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
    await client(baseUrl).request('/auth/password', { body: { newPassword: PASSWORD }, headers: { authorization: `Bearer ${'s'.repeat(43)}` } });
  });
  after(async () => {
    tls.closeAllConnections();
    await new Promise((resolve) => tls.close(resolve));
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
