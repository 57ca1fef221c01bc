// The one renderer of Gatehouse's own pages: HTML for browsers, plain text for everything else,
// the detail only for clients allowed to see it, every interpolated string escaped, the same security headers on every page, and a raw form for
// sockets that are no longer HTTP responses whose Content-Length counts bytes, not characters.
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { describe, test } from 'node:test';
import { acceptsHtml, rawErrorResponse, renderErrorPage } from '../../src-main/core/proxy/error-page.js';
import { ProxyError, proxyErrors, type ProxyErrorCode } from '../../src-main/core/proxy/errors.js';

const refused = new ProxyError('upstream_refused', 'Jellyfin at 10.0.0.4:8096 refused the connection.');

const NOW = new Date('2026-12-06T01:50:12.345Z');

describe('renderErrorPage', () => {
  test('plain text for a visitor: the service in plain words, a retry hint and the time; no detail', () => {
    const page = renderErrorPage(refused, { route: 'Jellyfin', html: false, now: NOW });
    assert.equal(page.status, 502);
    assert.equal(page.body, '502 Jellyfin is not available right now.\nTry again in a moment (request the same address).\nTime: 2026-12-06 01:50:12 UTC\n');
    assert.deepEqual(page.headers, {
      'cache-control': 'no-store',
      'x-gatehouse-error': 'service_unavailable',
      'x-content-type-options': 'nosniff',
      'content-type': 'text/plain; charset=utf-8',
    });
  });

  test('plain text with details: the same, then the cause and the detail, and the real code', () => {
    const page = renderErrorPage(refused, { route: 'Jellyfin', html: false, details: true, now: NOW });
    assert.ok(page.body.startsWith('502 Jellyfin is not available right now.\n'));
    assert.ok(page.body.includes('Service refused the connection\nJellyfin at 10.0.0.4:8096 refused the connection.\n'), page.body);
    assert.equal(page.headers['x-gatehouse-error'], 'upstream_refused');
  });

  test('HTML for a visitor: heading, retry link to the same address, time; no detail, no script', () => {
    const page = renderErrorPage(refused, { route: 'Jellyfin', html: true, now: NOW });
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, /^<!doctype html><html lang="en">/);
    assert.match(page.body, /<title>502 Jellyfin is not available right now\.<\/title>/);
    assert.match(page.body, /<h1>Jellyfin is not available right now\.<\/h1>/);
    assert.match(page.body, /<a class="retry" href="">Try again<\/a>/);
    assert.match(page.body, /<time datetime="2026-12-06T01:50:12\.345Z">2026-12-06 01:50:12 UTC<\/time>/);
    assert.ok(!page.body.includes('10.0.0.4'), 'no upstream address');
    assert.ok(!page.body.includes('upstream_refused') && !page.body.includes('refused'), 'no cause');
    assert.ok(!/<script|<img|<link|<iframe|src=/i.test(page.body), 'nothing loads or runs');
  });

  test('HTML with details: the cause, the detail and the code in their own section', () => {
    const page = renderErrorPage(refused, { route: 'Jellyfin', html: true, details: true, now: NOW });
    assert.match(page.body, /<h1>Jellyfin is not available right now\.<\/h1>/);
    assert.match(page.body, /<section class="details"><h2>Service refused the connection<\/h2><p>Jellyfin at 10\.0\.0\.4:8096 refused the connection\.<\/p>/);
    assert.match(page.body, /upstream_refused/);
  });

  test('without a route the page speaks of "This service" or the request itself', () => {
    const page = renderErrorPage(new ProxyError('no_route', 'No route is set up for x.example.'), { route: null, html: false, now: NOW });
    assert.equal(page.status, 404);
    assert.match(page.body, /^404 No service is set up for this name here\.\n/);
    const reset = renderErrorPage(new ProxyError('upstream_reset', 'x'), { route: null, html: false, now: NOW });
    assert.match(reset.body, /^502 This service is not available right now\./);
  });

  test('HTML escapes every character that could open markup or an attribute, in title and detail', () => {
    const title = `<b>Admin</b> & "Co" 'x'`;
    const detail = `<script>alert("x")</script> & <img src=x onerror='y'>`;
    const page = renderErrorPage(new ProxyError('upstream_reset', detail), { route: title, html: true, details: true });
    assert.ok(!page.body.includes('<b>Admin'));
    assert.ok(!page.body.includes('<script>'));
    assert.ok(!page.body.includes('<img'));
    assert.ok(page.body.includes('&lt;b&gt;Admin&lt;/b&gt; &amp; &quot;Co&quot; &#39;x&#39;'));
    assert.ok(page.body.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=&#39;y&#39;&gt;'));
    // In <title> too.
    assert.match(page.body, /<title>502 &lt;b&gt;Admin/);
  });

  test('plain text is served as text/plain with nosniff, so it is never rendered as markup', () => {
    const page = renderErrorPage(new ProxyError('upstream_reset', '<script>x</script>'), { route: '<b>t</b>', html: false });
    assert.equal(page.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
  });

  test('every failure renders in both forms, for visitors and with details, and a visitor never sees the detail', () => {
    const secret = 'Svc at 10.9.8.7:8443 failed (DEPTH_ZERO_SELF_SIGNED_CERT) via internal.lan';
    for (const code of Object.keys(proxyErrors) as ProxyErrorCode[]) {
      for (const html of [false, true]) {
        const visitor = renderErrorPage(new ProxyError(code, secret), { route: 'Route', html });
        assert.equal(visitor.status, proxyErrors[code].status, code);
        assert.equal(visitor.headers['x-gatehouse-error'], proxyErrors[code].publicCode, code);
        for (const leak of ['10.9.8.7', '8443', 'DEPTH_ZERO', 'internal.lan', proxyErrors[code].title]) {
          assert.ok(!visitor.body.includes(leak), `${code} (${html ? 'html' : 'text'}) shows ${leak}: ${visitor.body}`);
        }
        // A refusal a retry will not change offers no "try again"; the rest do.
        const final = ['access_denied', 'lan_only', 'country_denied', 'banned', 'scanner_probe', 'sign_in_required', 'body_too_large'].includes(code);
        assert.equal(/Try again/.test(visitor.body), !final, code);
        const detailed = renderErrorPage(new ProxyError(code, secret), { route: 'Route', html, details: true });
        assert.equal(detailed.headers['x-gatehouse-error'], code);
        assert.ok(detailed.body.includes(proxyErrors[code].title), code);
        assert.ok(detailed.body.includes(html ? 'Svc at 10.9.8.7:8443' : secret), code);
        if (html) assert.ok(visitor.body.includes(`${visitor.status} ${STATUS_CODES[visitor.status]} · `), code);
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
    const page = renderErrorPage(new ProxyError('request_timeout', 'The request headers did not arrive in time.'), { route: null, html: false });
    const raw = rawErrorResponse(page);
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    const [statusLine, ...lines] = head.split('\r\n');
    assert.equal(statusLine, 'HTTP/1.1 408 Request Timeout');
    assert.ok(lines.includes('connection: close'));
    assert.ok(lines.includes('x-gatehouse-error: request_timeout'), 'a failure of the request itself keeps its code');
    assert.ok(lines.includes(`content-length: ${Buffer.byteLength(body)}`));
    assert.equal(body, page.body);
  });

  test('Content-Length counts UTF-8 bytes, so a non-ASCII route title does not cut or overrun the body', () => {
    const page = renderErrorPage(refused, { route: 'Café – Küche 🍳', html: true });
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
