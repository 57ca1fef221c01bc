// What the dashboard says about the proxy and the routes' numbers (issue 12): which addresses only
// this machine can reach, what stopping takes offline, and over what period each number counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { isLoopback, loopbackOnly, servicesGoingOffline, stopProxyConsequence } from '../../src-renderer/pages/dashboard/proxy-facts.js';
import { ERRORS_LABEL, NUMBERS_EXPLAINED, routeNumbers } from '../../src-renderer/pages/dashboard/route-facts.js';

describe('loopback', () => {
  it('knows the addresses only this machine can use', () => {
    for (const address of ['127.0.0.1', '127.0.1.1', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(address), true, address);
    for (const address of ['0.0.0.0', '::', '192.168.1.20', 'fd00::2', '10.127.0.1']) assert.equal(isLoopback(address), false, address);
  });

  it('warns only when every bound listener is on loopback', () => {
    assert.equal(loopbackOnly([{ address: '127.0.0.1', port: 80 }, { address: '127.0.0.1', port: 443 }]), true);
    assert.equal(loopbackOnly([{ address: '127.0.0.1', port: 80 }, null]), true);
    assert.equal(loopbackOnly([{ address: '0.0.0.0', port: 80 }, { address: '127.0.0.1', port: 443 }]), false);
    assert.equal(loopbackOnly([null, null]), false, 'nothing bound: nothing to warn about');
  });
});

describe('stopping the proxy', () => {
  it('counts the enabled routes as the services that go offline', () => {
    const routes = [
      sampleRoute({ id: 'a', names: ['a.home.arpa'], upstream: 'http://10.0.0.1:80' }),
      sampleRoute({ id: 'b', names: ['b.home.arpa'], upstream: 'http://10.0.0.2:80', enabled: false }),
      sampleRoute({ id: 'c', names: ['c.home.arpa'], upstream: 'http://10.0.0.3:80' }),
    ];
    assert.deepEqual(servicesGoingOffline(routes).map((route) => route.id), ['a', 'c']);
  });

  it('says how many in words', () => {
    assert.match(stopProxyConsequence(5), /^5 services go offline/);
    assert.match(stopProxyConsequence(1), /^1 service goes offline/);
    assert.match(stopProxyConsequence(0), /no service goes offline/);
  });
});

describe('route numbers', () => {
  it('says over what period errors are counted, and shows a dash before the first numbers', () => {
    assert.equal(ERRORS_LABEL, 'Errors since start');
    assert.match(NUMBERS_EXPLAINED, /Errors since start: failed responses .* since Gatehouse started/);
    assert.match(NUMBERS_EXPLAINED, /last 60 seconds/);
    assert.deepEqual(routeNumbers(undefined), { perMinute: '—', errors: '—', refused: '—', p99: '—' });
    const stats = { routeId: 'a', requests: 9, errors: 2, bytesIn: 0, bytesOut: 0, p50Ms: 3, p99Ms: 41.6, requestsPerMinute: 7, openWebSockets: 0, refused: 0, refusedPerMinute: 0 };
    assert.deepEqual(routeNumbers(stats), { perMinute: '7', errors: '2', refused: '0', p99: '42 ms' });
  });
});
