// The /ca page on the real proxy shows the admin's LAN link only to a client that may see internals
// (the same rule as error details): this machine and its LAN, never a visitor from outside nor one
// that came through a tunnel or an untrusted proxy; the page and the CA downloads stay public.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCa, type LocalCaInfo } from '../../src-main/core/certs/local-ca.js';
import { onboardingPages } from '../../src-main/core/certs/onboarding.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { needOutsideClient, OutsideClient } from '../helpers/outside-client.js';
import { proxySettings, rawRequest, run } from '../helpers/proxy-harness.js';

const ADMIN_URL = 'https://192.168.7.2:4780/';
const LINK = `href="${ADMIN_URL}"`;

/** This machine as the engine sees it: loopback and one LAN interface on 192.168.7.0/24. */
const interfaces = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '192.168.7.2', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:07', internal: false, cidr: '192.168.7.2/24' }],
});

let dir: string;
let info: LocalCaInfo;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-onboarding-link-'));
  info = (await LocalCa.open(dir)).info;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The page names the CA by its fingerprint (wrapped only between bytes). */
const isOnboardingPage = (body: string) => body.replace(/<wbr>/g, '').includes(info.fingerprintSha256);

function engineFor(bindAddress: string, ownNetworks?: OwnNetworks): ProxyEngine {
  return new ProxyEngine({
    settings: { ...proxySettings(), bindAddress },
    stopGraceMs: 500,
    publicPages: onboardingPages(() => info, () => ADMIN_URL),
    ...(ownNetworks ? { ownNetworks } : {}),
  });
}

describe('the admin link by client headers', () => {
  let engine: ProxyEngine;
  let port: number;

  before(async () => {
    engine = engineFor('127.0.0.1', new OwnNetworks(interfaces));
    port = (await engine.start()).port;
  });

  after(async () => {
    await engine?.stop();
  });

  const page = async (headers: string[] = []) => {
    const answer = await rawRequest(port, ['GET /ca HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...headers, '', ''].join('\r\n'));
    assert.equal(answer.status, 200);
    return answer.body.toString('utf8');
  };

  test('this machine, asking directly, gets the link', async () => {
    assert.ok((await page()).includes(LINK));
  });

  test('a request naming another client through an untrusted peer (a tunnel) gets the page without it', async () => {
    for (const header of ['X-Forwarded-For: 203.0.113.9', 'CF-Connecting-IP: 203.0.113.9', 'X-Forwarded-For: 192.168.7.40']) {
      const body = await page([header]);
      assert.ok(isOnboardingPage(body), `${header}: still the onboarding page`);
      assert.ok(!body.includes(LINK) && !body.includes('192.168.7.2') && !body.includes('4780'), `${header}: the admin link shows`);
    }
    const download = await rawRequest(port, 'GET /ca/gatehouse-ca.pem HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n');
    assert.equal(download.body.toString('utf8'), info.certificatePem, 'the CA itself stays public');
  });

  test('behind a trusted proxy, a LAN client gets the link and an outside one does not', async (t) => {
    engine.applySettings({ ...proxySettings(), trustedProxies: ['127.0.0.1'] });
    t.after(() => engine.applySettings(proxySettings()));
    assert.ok((await page(['X-Forwarded-For: 192.168.7.40'])).includes(LINK));
    assert.ok(!(await page(['X-Forwarded-For: 203.0.113.9'])).includes(LINK));
  });
});

const skip = needOutsideClient('curl');

describe('the admin link for a visitor from outside', { skip }, () => {
  let outside: OutsideClient;
  let engine: ProxyEngine;
  let url: string;

  before(async () => {
    outside = await OutsideClient.create();
    engine = engineFor(outside.hostAddress);
    url = `http://${outside.hostAddress}:${(await engine.start()).port}/ca`;
  });

  after(async () => {
    await engine?.stop();
    await outside?.destroy();
  });

  test('the outside client gets the page without the link; this machine at the same address gets it', async () => {
    const theirs = await outside.exec(['curl', '-sS', '--max-time', '10', url]);
    assert.ok(isOnboardingPage(theirs.stdout), theirs.stdout + theirs.stderr);
    assert.ok(!theirs.stdout.includes(LINK) && !theirs.stdout.includes('192.168.7.2'), 'the outsider sees the admin link');
    const mine = await run('curl', ['-sS', '--max-time', '10', url]);
    assert.ok(mine.stdout.includes(LINK), mine.stdout + mine.stderr);
  });
});
