// Who the client really is behind trusted proxies: Forwarded, CF-Connecting-IP from Cloudflare's
// ranges only, the precedence between them, and entries that end the walk.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forwardedFors, hopAddress, realClient, TrustedProxies } from '../../src-main/core/proxy/real-client.js';
import { CLOUDFLARE_RANGES } from '../../src-main/core/proxy/trusted-fronts.js';

const local = new TrustedProxies(['10.0.0.0/8']);
const withCloudflare = new TrustedProxies(['10.0.0.0/8'], ['cloudflare']);
const client = (headers: Record<string, string>, peer: string, trusted: TrustedProxies) => realClient({ headers }, peer, trusted);

describe('hopAddress', () => {
  test('addresses with ports, brackets and quotes; anything else is no address', () => {
    const cases: [string, string | null][] = [
      ['203.0.113.5', '203.0.113.5'],
      [' 203.0.113.5:4711 ', '203.0.113.5'],
      ['2001:DB8::1', '2001:db8::1'],
      ['[2001:db8::1]', '2001:db8::1'],
      ['"[2001:db8::1]:4711"', '2001:db8::1'],
      ['::ffff:192.0.2.4', '192.0.2.4'],
      ['unknown', null],
      ['_hidden', null],
      ['"_SEVKISEK"', null],
      ['[2001:db8::1]x', null],
      ['203.0.113.5:port', null],
      ['999.1.1.1', null],
      ['', null],
    ];
    for (const [text, expected] of cases) assert.equal(hopAddress(text), expected, text);
  });
});

describe('Forwarded', () => {
  test('for= values are read per element, case-insensitively, quoted commas and semicolons included', () => {
    assert.deepEqual(forwardedFors('for=192.0.2.60;proto=http;by=203.0.113.43'), ['192.0.2.60']);
    assert.deepEqual(forwardedFors('For="[2001:db8:cafe::17]:4711", for=192.0.2.43'), ['"[2001:db8:cafe::17]:4711"', '192.0.2.43']);
    assert.deepEqual(forwardedFors('host="a,b;c";for=198.51.100.17, proto=https'), ['198.51.100.17', null]);
  });

  test('behind a trusted proxy with no X-Forwarded-For, the right-most untrusted for= is the client', () => {
    assert.equal(client({ forwarded: 'for=6.6.6.6, for="[2001:db8::1]:4711";proto=https, for=10.0.0.7' }, '10.0.0.1', local), '2001:db8::1');
    assert.equal(client({ forwarded: 'for=198.51.100.17' }, '10.0.0.1', local), '198.51.100.17');
  });

  test('an obfuscated or unknown hop ends the walk: the peer is the client, never an address left of it', () => {
    assert.equal(client({ forwarded: 'for=198.51.100.17, for=_hidden' }, '10.0.0.1', local), '10.0.0.1');
    assert.equal(client({ forwarded: 'for=198.51.100.17, for=unknown, for=10.0.0.7' }, '10.0.0.1', local), '10.0.0.1');
  });

  test('X-Forwarded-For wins over Forwarded; an untrusted peer is believed about nothing', () => {
    assert.equal(client({ 'x-forwarded-for': '198.51.100.1', forwarded: 'for=198.51.100.2' }, '10.0.0.1', local), '198.51.100.1');
    assert.equal(client({ forwarded: 'for=198.51.100.2' }, '203.0.113.9', local), '203.0.113.9');
  });
});

describe('Cloudflare', () => {
  test('the embedded ranges are valid CIDR and the front trusts them', () => {
    assert.ok(CLOUDFLARE_RANGES.length >= 20);
    const trusted = new TrustedProxies([], ['cloudflare']);
    assert.equal(trusted.empty, false);
    for (const address of ['173.245.48.1', '104.16.0.1', '2606:4700::1', '2a06:98c0::1']) {
      assert.equal(trusted.has(address), true, address);
      assert.equal(trusted.isCloudflare(address), true, address);
    }
    for (const address of ['8.8.8.8', '2001:db8::1', '10.0.0.1']) assert.equal(trusted.isCloudflare(address), false, address);
  });

  test('CF-Connecting-IP is believed from Cloudflare only, before X-Forwarded-For', () => {
    const headers = { 'cf-connecting-ip': '198.51.100.77', 'x-forwarded-for': '1.1.1.1, 198.51.100.66' };
    assert.equal(client(headers, '173.245.48.5', withCloudflare), '198.51.100.77');
    assert.equal(client(headers, '10.0.0.1', withCloudflare), '198.51.100.66', 'a trusted local proxy: X-Forwarded-For, not CF-Connecting-IP');
    assert.equal(client(headers, '173.245.48.5', local), '173.245.48.5', 'Cloudflare not trusted: its peer address is the client');
    assert.equal(client({ 'cf-connecting-ip': 'garbage', 'x-forwarded-for': '198.51.100.66' }, '2606:4700::9', withCloudflare), '198.51.100.66');
  });

  test('a route with its own list keeps the fronts', () => {
    const route = withCloudflare.withEntries(['192.168.5.5']);
    assert.equal(route.has('192.168.5.5'), true);
    assert.equal(route.has('10.0.0.1'), false);
    assert.equal(route.isCloudflare('173.245.48.5'), true);
    assert.notEqual(route.key, withCloudflare.key);
  });
});
