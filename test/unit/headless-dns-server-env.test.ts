// GATEHOUSE_DNS_SERVER that is not an IPv4 address (or GATEHOUSE_ACME_HTTP_PORT that is not a port)
// stops `gatehouse serve` like a bad flag: one line saying what the value must be, exit code 2,
// nothing started.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { main } from '../../src-main/headless/cli.js';
import { challengePortOverride, dnsServerOverride } from '../../src-main/core/gateway/acme-preflight.js';

describe('GATEHOUSE_DNS_SERVER', () => {
  const saved = { dns: process.env.GATEHOUSE_DNS_SERVER, port: process.env.GATEHOUSE_ACME_HTTP_PORT };
  const restore = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  after(() => {
    restore('GATEHOUSE_DNS_SERVER', saved.dns);
    restore('GATEHOUSE_ACME_HTTP_PORT', saved.port);
  });

  async function serveErrors(): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      return { code: await main(['serve', '--data-dir', '/nonexistent/gatehouse-never-created']), lines };
    } finally {
      console.error = original;
    }
  }

  it('refuses a value that is not ip[:port] with one line and exit code 2', async () => {
    process.env.GATEHOUSE_DNS_SERVER = 'dns.home.arpa';
    delete process.env.GATEHOUSE_ACME_HTTP_PORT;
    assert.deepEqual(await serveErrors(), { code: 2, lines: ['gatehouse: GATEHOUSE_DNS_SERVER must be an IPv4 address with an optional port, such as 10.33.0.2:53, not "dns.home.arpa"'] });
  });

  it('refuses GATEHOUSE_ACME_HTTP_PORT that is not a port the same way', async () => {
    process.env.GATEHOUSE_DNS_SERVER = '10.33.0.2';
    process.env.GATEHOUSE_ACME_HTTP_PORT = '80a';
    assert.deepEqual(await serveErrors(), { code: 2, lines: ['gatehouse: GATEHOUSE_ACME_HTTP_PORT must be a port number from 1 to 65535, not "80a"'] });
    assert.equal(challengePortOverride(' 5002 '), 5002);
    assert.equal(challengePortOverride(''), null);
  });

  it('reads ip and ip:port, port 53 by default, and nothing when unset or empty', () => {
    assert.deepEqual(dnsServerOverride('10.33.0.2'), { resolvers: ['10.33.0.2:53'], port: 53 });
    assert.deepEqual(dnsServerOverride(' 127.0.0.1:5353 '), { resolvers: ['127.0.0.1:5353'], port: 5353 });
    assert.equal(dnsServerOverride(undefined), null);
    assert.equal(dnsServerOverride(''), null);
    assert.throws(() => dnsServerOverride('10.33.0.2:70000'), /must be an IPv4 address/);
    assert.throws(() => dnsServerOverride('[::1]:53'), /must be an IPv4 address/);
  });
});
