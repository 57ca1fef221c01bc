// Access and the PROXY protocol on passed-through routes, through a real engine with an
// AccessRuntime's connection judge: an "internet client" in a network namespace (198.51.100.N, on
// none of this machine's networks; RECIPES-wave2 §7) is refused by a route open to this network only
// before a byte reaches the upstream (the connection is closed, the refusal logged with its rule),
// while a route open to anyone lets it through; and with tls.proxyProtocol v2 (and v1) the upstream
// reads a PROXY header first and sees the real client's address and port.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultAccessSettings, defaultRouteAccess, type RouteAccess } from '../../shared/access.js';
import { defaultSettings, type Route, type RouteTls } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { needOutsideClient, OutsideClient } from '../helpers/outside-client.js';
import { startPassthroughUpstream, type PassthroughUpstream, type UpstreamAnswer } from '../helpers/passthrough-upstream.js';
import { route as makeRoute, run, waitUntil } from '../helpers/proxy-harness.js';
import { openTestCa, TestCertificates, type TestCa } from '../helpers/tls-proxy.js';

const skip = needOutsideClient('curl');

const passTls = (proxyProtocol: RouteTls['proxyProtocol']): RouteTls => ({ mode: 'passthrough', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol });

describe('access and PROXY protocol on passed-through routes', { skip }, () => {
  let outside: OutsideClient;
  let ca: TestCa;
  let plainUpstream: PassthroughUpstream;
  let v2Upstream: PassthroughUpstream;
  let v1Upstream: PassthroughUpstream;
  let access: AccessRuntime;
  let engine: ProxyEngine;
  let dataDir: string;
  let httpsPort: number;
  const logged: AccessLogEntry[] = [];

  const withAccess = (id: string, upstream: PassthroughUpstream, proxyProtocol: RouteTls['proxyProtocol'], rules: Partial<RouteAccess>): Route =>
    makeRoute(id, upstream.url, [`${id}.test`], { tls: passTls(proxyProtocol), access: { ...defaultRouteAccess(), ...rules } });

  before(async () => {
    outside = await OutsideClient.create();
    ca = await openTestCa();
    dataDir = await mkdtemp(join(tmpdir(), 'gh-pass-access-'));
    plainUpstream = await startPassthroughUpstream(ca.dir, 'plain', { names: ['lan.test', 'open.test'] });
    v2Upstream = await startPassthroughUpstream(ca.dir, 'v2', { names: ['v2.test'], proxyProtocol: true });
    v1Upstream = await startPassthroughUpstream(ca.dir, 'v1', { names: ['v1.test'], proxyProtocol: true });
    const ownNetworks = new OwnNetworks();
    assert.equal(ownNetworks.isOwnNetwork(outside.clientAddress), false, "the namespace client is on none of this machine's subnets");
    access = await AccessRuntime.open({ dataDir, ownNetworks, settings: defaultAccessSettings() });
    const base = defaultSettings().proxy;
    engine = new ProxyEngine({
      // Bound to the host end of the veth: the namespace reaches it, and so does this machine (from that same address).
      settings: { ...base, httpPort: 0, httpsPort: 0, bindAddress: outside.hostAddress, trustedProxies: [] },
      stopGraceMs: 500,
      onRequestLogged: (entry) => logged.push(entry),
      ownNetworks,
      passesFor: access.passesFor,
      connectionJudge: (rules) => access.rules.connectionJudge(rules),
      certificates: new TestCertificates(await ca.leaf(['gatehouse.home.arpa'])),
    });
    engine.setRoutes([
      withAccess('lan', plainUpstream, 'off', { exposure: 'lan' }),
      withAccess('open', plainUpstream, 'off', { exposure: 'anyone' }),
      withAccess('v2', v2Upstream, 'v2', { exposure: 'anyone' }),
      withAccess('v1', v1Upstream, 'v1', { exposure: 'anyone' }),
    ]);
    await engine.start();
    httpsPort = engine.https!.port;
  });

  after(async () => {
    await engine?.stop();
    await access?.close();
    await plainUpstream?.close();
    await v2Upstream?.close();
    await v1Upstream?.close();
    await outside?.destroy();
    await ca?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const curlArgs = (name: string, address: string, cacert: string, extra: string[] = []) => [
    'curl', '-sS', '--max-time', '10', '--http1.1', '--resolve', `${name}:${httpsPort}:${address}`, '--cacert', cacert, ...extra, `https://${name}:${httpsPort}/`,
  ];
  const fromOutside = (name: string, cacert: string) => outside.exec(curlArgs(name, outside.hostAddress, cacert));
  const fromHere = (name: string, cacert: string, extra: string[] = []) => run('curl', curlArgs(name, outside.hostAddress, cacert, extra).slice(1));
  const loggedFor = async (routeId: string, client: string) => {
    await waitUntil(() => logged.some((e) => e.routeId === routeId && e.client === client), 5000, `a log entry for ${routeId} from ${client}`);
    return logged.find((e) => e.routeId === routeId && e.client === client)!;
  };

  test('"this network only" closes the internet client\'s connection before the upstream hears of it, and logs why', async () => {
    const before = plainUpstream.connections;
    const refused = await fromOutside('lan.test', plainUpstream.certPath);
    assert.notEqual(refused.code, 0, `curl got through: ${refused.stdout}`);
    const entry = await loggedFor('lan', outside.clientAddress);
    assert.deepEqual(
      [entry.method, entry.host, entry.path, entry.status, entry.error, entry.rule, entry.upstream, entry.bytes],
      ['TLS', 'lan.test', '', 403, 'lan_only', 'exposure: this network only', null, 0],
    );
    assert.equal(entry.streamId, undefined);
    assert.equal(plainUpstream.connections, before, 'no connection was made to the upstream');
    const stats = engine.stats().routes.find((r) => r.routeId === 'lan');
    assert.equal(stats?.refused, 1);

    // This machine (from its own address) is on its own network: let through, the upstream's own certificate verified.
    const mine = await fromHere('lan.test', plainUpstream.certPath);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal((JSON.parse(mine.stdout) as UpstreamAnswer).upstream, 'plain');
  });

  test('"anyone" lets the internet client through to the upstream', async () => {
    const answer = await fromOutside('open.test', plainUpstream.certPath);
    assert.equal(answer.code, 0, answer.stderr);
    assert.equal((JSON.parse(answer.stdout) as UpstreamAnswer).upstream, 'plain');
    const entry = await loggedFor('open', outside.clientAddress);
    assert.deepEqual([entry.status, entry.error, entry.upstream], [0, null, `127.0.0.1:${plainUpstream.port}`]);
  });

  test('PROXY protocol v2 out: the upstream reads the header first and sees the real client', async () => {
    const answer = await fromOutside('v2.test', v2Upstream.certPath);
    assert.equal(answer.code, 0, answer.stderr);
    assert.equal((JSON.parse(answer.stdout) as UpstreamAnswer).upstream, 'v2');
    const header = v2Upstream.headers.at(-1);
    assert.equal(header?.version, 2);
    assert.equal(header?.source?.address, outside.clientAddress);
    assert.ok((header?.source?.port ?? 0) > 0, 'the client\'s port is given');
    assert.equal(header?.destination?.address, outside.hostAddress);
    assert.equal(header?.destination?.port, httpsPort);
  });

  test('PROXY protocol v1 out, from this machine: the client\'s own source port arrives', async () => {
    const answer = await fromHere('v1.test', v1Upstream.certPath, ['--local-port', '47100-47199', '-w', '\n%{local_port}']);
    assert.equal(answer.code, 0, answer.stderr);
    const [body, localPort] = answer.stdout.split('\n');
    assert.equal((JSON.parse(body!) as UpstreamAnswer).upstream, 'v1');
    const header = v1Upstream.headers.at(-1);
    assert.deepEqual([header?.version, header?.source?.address, header?.source?.port], [1, outside.hostAddress, Number(localPort)]);
  });
});
