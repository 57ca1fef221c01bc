// Where the app tells a phone to look for the CA: the addresses the HTTP listener is reachable on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onboardingUrls } from '../../src-main/core/gateway/onboarding-urls.js';

const lan = ['192.168.1.20', '10.33.0.2', 'fd00::20'];

test('a listener on every IPv4 interface is reached at each LAN IPv4 address, port 80 left out', () => {
  assert.deepEqual(onboardingUrls({ address: '0.0.0.0', port: 80 }, lan), ['http://192.168.1.20/ca', 'http://10.33.0.2/ca']);
});

test('a listener on :: is reached over IPv6 too, in brackets, with its port', () => {
  assert.deepEqual(onboardingUrls({ address: '::', port: 8080 }, lan), ['http://192.168.1.20:8080/ca', 'http://10.33.0.2:8080/ca', 'http://[fd00::20]:8080/ca']);
});

test('a listener bound to one address is reached only there', () => {
  assert.deepEqual(onboardingUrls({ address: '127.0.0.1', port: 8080 }, lan), ['http://127.0.0.1:8080/ca']);
  assert.deepEqual(onboardingUrls({ address: 'fd00::20', port: 80 }, lan), ['http://[fd00::20]/ca']);
});

test('no URL while the proxy is stopped', () => {
  assert.deepEqual(onboardingUrls(null, lan), []);
});
