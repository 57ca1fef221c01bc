// Where the app tells a phone to look for the CA: the addresses the HTTP listener is reachable on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback, onboardingProblem, onboardingUrls } from '../../src-main/core/gateway/onboarding-urls.js';

const lan = ['192.168.1.20', '10.33.0.2', 'fd00::20'];

test('a listener on every IPv4 interface is reached at each LAN IPv4 address, port 80 left out', () => {
  assert.deepEqual(onboardingUrls({ address: '0.0.0.0', port: 80 }, lan), ['http://192.168.1.20/ca', 'http://10.33.0.2/ca']);
});

test('a listener on :: is reached over IPv6 too, in brackets, with its port', () => {
  assert.deepEqual(onboardingUrls({ address: '::', port: 8080 }, lan), ['http://192.168.1.20:8080/ca', 'http://10.33.0.2:8080/ca', 'http://[fd00::20]:8080/ca']);
});

test('a listener bound to one address is reached only there', () => {
  assert.deepEqual(onboardingUrls({ address: '10.33.0.2', port: 8080 }, lan), ['http://10.33.0.2:8080/ca']);
  assert.deepEqual(onboardingUrls({ address: 'fd00::20', port: 80 }, lan), ['http://[fd00::20]/ca']);
  assert.equal(onboardingProblem({ address: '10.33.0.2', port: 8080 }, lan), null);
});

test('a proxy bound to loopback offers no URL (so no QR code), and says why with the fix', () => {
  for (const address of ['127.0.0.1', '127.0.1.1', '::1']) {
    assert.deepEqual(onboardingUrls({ address, port: 8080 }, lan), [], address);
    const problem = onboardingProblem({ address, port: 8080 }, lan);
    assert.equal(problem?.code, 'proxy_loopback_only', address);
    assert.match(problem?.message ?? '', /listens only on this machine .*cannot reach the onboarding page/);
    assert.match(problem?.fix ?? '', /bind address to 0\.0\.0\.0 in Settings/);
  }
});

test('a proxy on every interface of a machine with no LAN address: no URL, and the reason', () => {
  assert.deepEqual(onboardingUrls({ address: '0.0.0.0', port: 80 }, []), []);
  assert.equal(onboardingProblem({ address: '0.0.0.0', port: 80 }, [])?.code, 'no_lan_address');
  // A loopback address in the LAN list (it never should be) is still not offered.
  assert.deepEqual(onboardingUrls({ address: '::', port: 80 }, ['127.0.0.1', '::1']), []);
});

test('loopback is 127.0.0.0/8 and ::1 (also IPv4-mapped), nothing else', () => {
  for (const address of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.equal(isLoopback(address), true, address);
  for (const address of ['10.0.0.1', '0.0.0.0', '::', 'fd00::1', '128.0.0.1', '1.127.0.0']) assert.equal(isLoopback(address), false, address);
});

test('no URL while the proxy is stopped, and no problem either (the page says to start it)', () => {
  assert.deepEqual(onboardingUrls(null, lan), []);
  assert.equal(onboardingProblem(null, []), null);
});
