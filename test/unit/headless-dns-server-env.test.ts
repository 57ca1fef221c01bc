// GATEHOUSE_DNS_SERVER that is not an IPv4 address stops `gatehouse serve` like a bad flag: one line
// saying what the value must be, exit code 2, nothing started; a good value gets past that check.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { main } from '../../src-main/headless/cli.js';
import { dnsServerOverride } from '../../src-main/core/gateway/acme-preflight.js';

describe('GATEHOUSE_DNS_SERVER', () => {
  const saved = process.env.GATEHOUSE_DNS_SERVER;
  after(() => {
    if (saved === undefined) delete process.env.GATEHOUSE_DNS_SERVER;
    else process.env.GATEHOUSE_DNS_SERVER = saved;
  });

  it('refuses a value that is not ip[:port] with one line and exit code 2', async () => {
    process.env.GATEHOUSE_DNS_SERVER = 'dns.home.arpa';
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.join(' '));
    let code: number;
    try {
      code = await main(['serve', '--data-dir', '/nonexistent/gatehouse-never-created']);
    } finally {
      console.error = original;
    }
    assert.equal(code, 2);
    assert.deepEqual(lines, ['gatehouse: GATEHOUSE_DNS_SERVER must be an IPv4 address with an optional port, such as 10.33.0.2:53, not "dns.home.arpa"']);
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
