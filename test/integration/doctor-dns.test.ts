// The route doctor's DNS step against a real DNS server (dnsmasq from Debian) that the gateway asks
// for public names (acmePreflight.publicResolvers, what GATEHOUSE_DNS_SERVER sets): a name it says
// does not exist, a name it points at another machine on the LAN, a name it points at 127.0.0.1 (this machine for itself only: a warning), and a DNS
// server that reads every question and never answers, where the whole doctor must still end within
// its bound with a result that says the server did not answer.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { DoctorReport } from '../../shared/insight.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { needDnsmasq, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';
import { call } from '../helpers/gateway-calls.js';
import { makeDataDir } from '../helpers/serve.js';
import { startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const skip = needDnsmasq();

function checkOf(report: DoctorReport, id: string) {
  const found = report.checks.find((check) => check.id === id);
  assert.ok(found, `no check ${id} in ${report.checks.map((check) => check.id).join(', ')}`);
  return found;
}

describe('the doctor asks DNS', { skip }, () => {
  let dnsmasq: Dnsmasq;
  let silent: Socket;
  let upstream: Upstream;
  const dirs: string[] = [];
  const gateways: Gateway[] = [];

  async function gatewayAsking(server: string): Promise<Gateway> {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const gateway = await createGateway({
      dataDir,
      overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' },
      mdnsEnvironment: 'off',
      acmePreflight: { publicResolvers: [server] },
    });
    gateways.push(gateway);
    await call(gateway, 'startProxy');
    return gateway;
  }

  before(async () => {
    dnsmasq = await startDnsmasq({
      records: [
        { name: 'elsewhere.example.net', ip: '10.20.30.40' },
        { name: 'here.example.net', ip: '127.0.0.1' },
      ],
      localDomains: ['example.net'],
    });
    // A DNS server that reads every question and never answers.
    silent = createSocket('udp4');
    silent.on('message', () => {});
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
    upstream = await startEchoUpstream('app');
  });
  after(async () => {
    for (const gateway of gateways) await gateway.close();
    silent?.close();
    await dnsmasq?.close();
    await upstream?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('a name the DNS server does not know fails with NXDOMAIN and says where to add the record', async () => {
    const gateway = await gatewayAsking(`${dnsmasq.address}:${dnsmasq.port}`);
    const route = await call(gateway, 'addRoute', { names: ['nowhere.example.net'], upstream: upstream.url });
    const report = await call(gateway, 'runDoctor', { routeId: route.id });
    const check = checkOf(report, 'dns:nowhere.example.net:public');
    assert.equal(check.state, 'fail');
    assert.match(check.says, /does not exist \(NXDOMAIN\)/);
    assert.match(check.fix ?? '', /Create an A record for nowhere\.example\.net/);
    assert.equal(report.verdict, 'broken');
    assert.match(dnsmasq.log(), /query\[A\] nowhere\.example\.net/, 'dnsmasq was really asked');
  });

  test('a name that resolves to another machine says where it points and what to change', async () => {
    const gateway = await gatewayAsking(`${dnsmasq.address}:${dnsmasq.port}`);
    const route = await call(gateway, 'addRoute', { names: ['elsewhere.example.net', 'here.example.net'], upstream: upstream.url });
    const report = await call(gateway, 'runDoctor', { routeId: route.id });
    const elsewhere = checkOf(report, 'dns:elsewhere.example.net:public');
    assert.equal(elsewhere.state, 'fail');
    assert.match(elsewhere.says, /10\.20\.30\.40, which is not this machine/);
    assert.match(elsewhere.fix ?? '', /router's DNS settings, the Pi-hole's Local DNS records/);
    const here = checkOf(report, 'dns:here.example.net:public');
    assert.equal(here.state, 'warn', here.says);
    assert.match(here.says, /127\.0\.0\.1: this machine, but a loopback address, so it works only on this machine/);
    assert.equal(report.summary, report.checks.find((check) => check.state === 'fail')?.says);
  });

  test('a DNS server that never answers: the doctor ends within its bound and says the server did not answer', async () => {
    const address = silent.address();
    const gateway = await gatewayAsking(`${address.address}:${address.port}`);
    const route = await call(gateway, 'addRoute', { names: ['slow.example.net', 'other.example.net'], upstream: upstream.url });
    const started = Date.now();
    const report = await call(gateway, 'runDoctor', { routeId: route.id });
    const took = Date.now() - started;
    // The target (5 s) is measured by the bench; here only a generous bound.
    assert.ok(took < 10_000, `the doctor took ${took} ms`);
    assert.ok(report.durationMs <= took);
    for (const name of ['slow.example.net', 'other.example.net']) {
      const check = checkOf(report, `dns:${name}:public`);
      assert.equal(check.state, 'fail');
      assert.match(check.says, new RegExp(`did not answer for ${name.replace(/\./g, '\\.')} within 1\\.8 s`));
    }
    // The other steps still report: the proxy answers, the upstream answers.
    assert.equal(checkOf(report, 'port:http').state, 'warn', 'bound to 127.0.0.1: only this machine reaches it');
    assert.equal(checkOf(report, `upstream:${upstream.url}`).state, 'pass');
  });
});
