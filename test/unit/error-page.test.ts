// The one renderer of Gatehouse's own pages: HTML for browsers, plain text for everything else,
// every interpolated string escaped, the same security headers on every page, and a raw form for
// sockets that are no longer HTTP responses whose Content-Length counts bytes, not characters.
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { describe, test } from 'node:test';
import { acceptsHtml, rawErrorResponse, renderErrorPage } from '../../src-main/core/proxy/error-page.js';
import { ProxyError, proxyErrors, type ProxyErrorCode } from '../../src-main/core/proxy/errors.js';

const refused = new ProxyError('upstream_refused', 'Jellyfin at 10.0.0.4:8096 refused the connection.');

describe('renderErrorPage', () => {
  test('plain text: status, heading naming the route, the detail; nothing else', () => {
    const page = renderErrorPage(refused, 'Jellyfin', false);
    assert.equal(page.status, 502);
    assert.equal(page.body, '502 Service refused the connection: Jellyfin\nJellyfin at 10.0.0.4:8096 refused the connection.\n');
    assert.deepEqual(page.headers, {
      'cache-control': 'no-store',
      'x-gatehouse-error': 'upstream_refused',
      'x-content-type-options': 'nosniff',
      'content-type': 'text/plain; charset=utf-8',
    });
  });

  test('HTML: a complete page with the heading, detail and code, under a CSP that allows no script', () => {
    const page = renderErrorPage(refused, 'Jellyfin', true);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, /^<!doctype html><html lang="en">/);
    assert.match(page.body, /<title>502 Service refused the connection: Jellyfin<\/title>/);
    assert.match(page.body, /<h1>Service refused the connection: Jellyfin<\/h1><p>Jellyfin at 10\.0\.0\.4:8096 refused the connection\.<\/p>/);
    assert.match(page.body, /502 Bad Gateway · upstream_refused · answered by Gatehouse/);
    assert.ok(!/<script|<img|<link|<iframe|src=|href=/i.test(page.body), 'nothing loads or runs');
  });

  test('without a route the heading is the title alone', () => {
    const page = renderErrorPage(new ProxyError('no_route', 'No route is set up for x.example.'), null, false);
    assert.equal(page.status, 404);
    assert.equal(page.body, '404 No route for this name\nNo route is set up for x.example.\n');
  });

  test('HTML escapes every character that could open markup or an attribute, in title and detail', () => {
    const title = `<b>Admin</b> & "Co" 'x'`;
    const detail = `<script>alert("x")</script> & <img src=x onerror='y'>`;
    const page = renderErrorPage(new ProxyError('upstream_reset', detail), title, true);
    assert.ok(!page.body.includes('<b>Admin'));
    assert.ok(!page.body.includes('<script>'));
    assert.ok(!page.body.includes('<img'));
    assert.ok(page.body.includes('&lt;b&gt;Admin&lt;/b&gt; &amp; &quot;Co&quot; &#39;x&#39;'));
    assert.ok(page.body.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=&#39;y&#39;&gt;'));
    // In <title> too.
    assert.match(page.body, /<title>502 Service closed the connection: &lt;b&gt;Admin/);
  });

  test('plain text is served as text/plain with nosniff, so it is never rendered as markup', () => {
    const page = renderErrorPage(new ProxyError('upstream_reset', '<script>x</script>'), '<b>t</b>', false);
    assert.equal(page.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
  });

  test('every failure renders in both forms with its own status and code', () => {
    for (const code of Object.keys(proxyErrors) as ProxyErrorCode[]) {
      for (const html of [false, true]) {
        const page = renderErrorPage(new ProxyError(code, 'detail'), 'Route', html);
        assert.equal(page.status, proxyErrors[code].status, code);
        assert.equal(page.headers['x-gatehouse-error'], code);
        assert.ok(page.body.includes(proxyErrors[code].title), code);
        if (html) assert.ok(page.body.includes(`${page.status} ${STATUS_CODES[page.status]} · ${code}`), code);
      }
    }
  });
});

describe('acceptsHtml', () => {
  test('browsers get HTML; curl, API clients and no Accept get text', () => {
    assert.equal(acceptsHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), true);
    assert.equal(acceptsHtml('text/html'), true);
    for (const accept of [undefined, '', '*/*', 'application/json', 'text/plain']) assert.equal(acceptsHtml(accept), false, String(accept));
  });
});

describe('rawErrorResponse', () => {
  test('a complete HTTP/1.1 response that closes the connection', () => {
    const page = renderErrorPage(new ProxyError('request_timeout', 'The request headers did not arrive in time.'), null, false);
    const raw = rawErrorResponse(page);
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    const [statusLine, ...lines] = head.split('\r\n');
    assert.equal(statusLine, 'HTTP/1.1 408 Request Timeout');
    assert.ok(lines.includes('connection: close'));
    assert.ok(lines.includes('x-gatehouse-error: request_timeout'));
    assert.ok(lines.includes(`content-length: ${Buffer.byteLength(body)}`));
    assert.equal(body, page.body);
  });

  test('Content-Length counts UTF-8 bytes, so a non-ASCII route title does not cut or overrun the body', () => {
    const page = renderErrorPage(refused, 'Café – Küche 🍳', true);
    const raw = rawErrorResponse(page);
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    const length = Number(/content-length: (\d+)/.exec(raw)?.[1]);
    assert.equal(length, Buffer.byteLength(body, 'utf8'));
    assert.ok(length > body.length, 'the title really is multi-byte');
  });

  test('a status Node has no reason phrase for still makes a valid status line', () => {
    const raw = rawErrorResponse({ status: 599, headers: {}, body: 'x' });
    assert.match(raw, /^HTTP\/1\.1 599 Error\r\n/);
  });
});
