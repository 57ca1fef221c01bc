// Who gets in, through the real request path: a ProxyEngine with an AccessRuntime's passes, a real
// upstream, clients on this machine bound to 127.x.y.z, and an "internet client" in a network
// namespace (test/helpers/outside-client.ts: 198.51.100.N, on none of this machine's subnets, and
// in AU according to the country database). Each refusal is a 403 with its code and rule in the
// log; the visitor's page names no rule and no address of this network, while a client on this
// network is shown the rule.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultAccessSettings, defaultRouteAccess, type AccessList, type RouteAccess } from '../../shared/access.js';
import { defaultSettings, type Route } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { needOutsideClient, OutsideClient } from '../helpers/outside-client.js';
import { echoHandler, route as makeRoute, startServer, waitUntil, within, type TestServer } from '../helpers/proxy-harness.js';

const skip = needOutsideClient('curl');

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The last head and the body of `curl -i` output. */
function parseCurl(stdout: string): Answer {
  let rest = stdout;
  let head = '';
  while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end !== -1, `no complete head in ${JSON.stringify(stdout.slice(0, 300))}`);
    head = rest.slice(0, end);
    rest = rest.slice(end + 4);
  }
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/ (\d{3})/.exec(statusLine ?? '')?.[1]), headers, body: rest };
}

describe('the access pass on a running proxy', { skip }, () => {
  let outside: OutsideClient;
  let upstream: TestServer;
  let access: AccessRuntime;
  let engine: ProxyEngine;
  let port: number;
  let dataDir: string;
  const logged: AccessLogEntry[] = [];

  const friends = (): AccessList => ({ id: 'friends', name: 'Friends', entries: [{ action: 'allow', range: `${outside.clientAddress}/32`, note: 'my phone' }] });
  const home: AccessList = {
    id: 'home',
    name: 'Home',
    entries: [
      { action: 'allow', range: '127.0.0.7', note: 'the laptop' },
      { action: 'deny', range: '127.0.0.0/8', note: 'the rest of loopback' },
    ],
  };
  const withAccess = (id: string, access: Partial<RouteAccess>): Route =>
    makeRoute(id, upstream.url, [`${id}.test`], { title: `Service ${id}`, access: { ...defaultRouteAccess(), ...access } });

  /** A request from the namespace: what a visitor from the internet gets. */
  const fromOutside = async (host: string, extra: string[] = []): Promise<Answer> => {
    const result = await outside.exec(['curl', '-sS', '-i', '--max-time', '10', '-H', `Host: ${host}`, '-H', 'Accept: text/html', ...extra, `http://${outside.hostAddress}:${port}/some/path`]);
    assert.equal(result.code, 0, `curl in the namespace failed: ${result.stderr}`);
    return parseCurl(result.stdout);
  };

  /** A request from this machine, from `localAddress` (anything in 127/8). */
  const fromHere = (host: string, localAddress: string): Promise<Answer> =>
    within(
      new Promise<Answer>((resolve, reject) => {
        const req = httpRequest({ host: outside.hostAddress, port, path: '/', localAddress, agent: false, headers: { host, accept: 'text/plain' } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (text: string) => (body += text));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: flat(res.headers), body }));
        });
        req.on('error', reject);
        req.end();
      }),
      10_000,
      `a request from ${localAddress} to ${host}`,
    );

  const loggedFor = async (host: string, client: string): Promise<AccessLogEntry> => {
    let found: AccessLogEntry | undefined;
    await waitUntil(() => (found = logged.findLast((entry) => entry.host === host && entry.client === client)) !== undefined, 3000, `the log entry for ${client} on ${host}`);
    return found as AccessLogEntry;
  };

  /** The refusal page a visitor gets: the plain sentence, and nothing about rules or this network. */
  const assertVisitorRefusal = (answer: Answer, title: string) => {
    assert.equal(answer.status, 403, answer.body);
    assert.equal(answer.headers['x-gatehouse-error'], 'forbidden', 'the public code, not which check refused');
    assert.ok(answer.body.includes(`${title} cannot be reached from where you are.`), answer.body);
    for (const secret of ['Rule', 'rule', 'exposure', 'this network', 'list "', 'country', 'AU', 'lan_only', 'country_denied', 'access_denied', '127.0.0.1', String(upstream.port), 'Details']) {
      assert.ok(!answer.body.includes(secret), `the visitor's page gives away "${secret}":\n${answer.body}`);
    }
  };

  before(async () => {
    outside = await OutsideClient.create();
    upstream = await startServer(echoHandler('app'));
    dataDir = await mkdtemp(join(tmpdir(), 'gh-access-a-'));
    const ownNetworks = new OwnNetworks();
    assert.equal(ownNetworks.isOwnNetwork(outside.clientAddress), false, 'the namespace client is on none of this machine\'s subnets');
    access = await AccessRuntime.open({ dataDir, ownNetworks, settings: { ...defaultAccessSettings(), lists: [friends(), home] } });
    const routes = [
      withAccess('lan', { exposure: 'lan' }),
      withAccess('open', { exposure: 'anyone' }),
      withAccess('noau', { exposure: 'anyone', countries: { mode: 'deny', countries: ['AU'] } }),
      withAccess('friends', { exposure: 'lan', lists: ['friends'] }),
      withAccess('listed', { exposure: 'anyone', lists: ['home'] }),
    ];
    const base = defaultSettings().proxy;
    engine = new ProxyEngine({
      settings: { ...base, httpPort: 0, bindAddress: outside.hostAddress, trustedProxies: [] },
      stopGraceMs: 500,
      onRequestLogged: (entry) => logged.push(entry),
      ownNetworks,
      passesFor: access.passesFor,
    });
    engine.setRoutes(routes);
    port = (await engine.start()).port;
  });

  after(async () => {
    await engine?.stop();
    await access?.close();
    await upstream?.close();
    await outside?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('"this network only" refuses the internet client with lan_only, and lets 127.0.0.1 in', async () => {
    assertVisitorRefusal(await fromOutside('lan.test'), 'Service lan');
    const entry = await loggedFor('lan.test', outside.clientAddress);
    // No upstream is named: none was picked, let alone contacted, for a refused request.
    assert.deepEqual([entry.status, entry.error, entry.rule, entry.upstream], [403, 'lan_only', 'exposure: this network only', null]);
    assert.match(entry.detail ?? '', /is not on this machine's networks/);
    assert.equal(upstream.connections, 0, 'the upstream never heard of it');

    const mine = await fromHere('lan.test', '127.0.0.1');
    assert.equal(mine.status, 200, mine.body);
    assert.equal(JSON.parse(mine.body).upstream, 'app');
  });

  test('a WebSocket upgrade from outside is refused the same way', async () => {
    const answer = await fromOutside('lan.test', ['-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket', '-H', 'Sec-WebSocket-Version: 13', '-H', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);
    assert.equal(answer.status, 403);
    assert.equal(answer.headers['x-gatehouse-error'], 'forbidden');
  });

  test('"anyone" lets the internet client in', async () => {
    const answer = await fromOutside('open.test');
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).headers['x-forwarded-for'], outside.clientAddress);
  });

  test('a country rule denying AU refuses it (country_denied), and never this network', async () => {
    assertVisitorRefusal(await fromOutside('noau.test'), 'Service noau');
    const entry = await loggedFor('noau.test', outside.clientAddress);
    assert.deepEqual([entry.error, entry.rule], ['country_denied', 'country: AU in denied AU']);
    assert.equal((await fromHere('noau.test', '127.0.0.1')).status, 200);
  });

  test('an access list that allows it lets it into a route open to this network only', async () => {
    const answer = await fromOutside('friends.test');
    assert.equal(answer.status, 200, answer.body);
    const entry = await loggedFor('friends.test', outside.clientAddress);
    assert.equal(entry.rule, `list "Friends": allow ${outside.clientAddress}/32 (my phone)`, 'the log names the entry that let it in');
  });

  test('clients on this machine are told apart by address: the first matching entry decides, and they see the rule', async () => {
    const laptop = await fromHere('listed.test', '127.0.0.7');
    assert.equal(laptop.status, 200, laptop.body);
    const other = await fromHere('listed.test', '127.0.0.8');
    assert.equal(other.status, 403);
    assert.equal(other.headers['x-gatehouse-error'], 'access_denied', 'this network sees the real code');
    assert.ok(other.body.includes('Rule: list "Home": deny 127.0.0.0/8 (the rest of loopback)'), other.body);
    const entry = await loggedFor('listed.test', '127.0.0.8');
    assert.deepEqual([entry.error, entry.rule], ['access_denied', 'list "Home": deny 127.0.0.0/8 (the rest of loopback)']);
  });
});

function flat(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
