// A plain GET of the one-time link does not spend it (link previews, mail scanners and prefetch open
// links): it shows a page whose button POSTs to the same path, and only that POST signs in. The
// page's policy lets its own form post (form-action 'self') and sends the Origin the guard checks; a
// POST from another site's page is refused and spends nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, onceLinkIn, readyLines } from '../helpers/auth.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

describe('the one-time link needs its button', () => {
  let serve: ServeProcess;
  let link: string;

  before(async () => {
    serve = await startServe();
    link = onceLinkIn(await readyLines(serve))!;
    assert.ok(link);
  });
  after(async () => {
    await serve?.stop();
  });

  test('GET shows the button, sets no cookie and spends nothing, however often', async () => {
    for (let i = 0; i < 3; i++) {
      const preview = client(serve.adminUrl);
      const page = await preview.request(link, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200);
      assert.equal(preview.cookie, null);
      assert.match(page.headers.get('content-type')!, /^text\/html/);
      assert.match(page.text, new RegExp(`<form method="post" action="${new URL(link).pathname}">`));
      assert.match(page.text, /<button type="submit">Sign in with this link<\/button>/);
      assert.match(page.headers.get('content-security-policy')!, /form-action 'self'/);
      assert.doesNotMatch(page.headers.get('content-security-policy')!, /form-action 'none'/);
      assert.equal(page.headers.get('referrer-policy'), 'same-origin');
    }
  });

  test('a POST from another site is refused and the link still works; the button’s POST signs in once', async () => {
    const attacker = await client(serve.adminUrl).request(link, { method: 'POST', headers: { origin: 'http://evil.example' } });
    assert.equal(attacker.status, 403);
    const browser = client(serve.adminUrl);
    const used = await browser.request(link, { method: 'POST', headers: { origin: new URL(serve.adminUrl).origin } });
    assert.equal(used.status, 303);
    assert.ok(browser.cookie);
    assert.equal((await browser.request('/api/routes')).status, 200);
    assert.equal((await client(serve.adminUrl).request(link)).status, 410, 'a spent link shows no button');
  });

  test('other methods are refused with Allow', async () => {
    const put = await client(serve.adminUrl).request(link, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST');
  });
});
