// PROXY protocol in and out around a passed-through route: a trusted front (proxy.proxyProtocolFrom)
// names the real client in its header; that client, not the front, is what access judges (a refused
// one is closed before the upstream hears of it, and logged under its own address), and an admitted
// one reaches an upstream that asked for PROXY v2 with the real client's address and port in it.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import type { RouteTls } from '../../shared/model.js';
import { ProxyError } from '../../src-main/core/proxy/errors.js';
import { startPassthroughUpstream, type PassthroughUpstream } from '../helpers/passthrough-upstream.js';
import { proxySettings, route, within } from '../helpers/proxy-harness.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';
import { needTools } from '../helpers/tools.js';

const skip = needTools('openssl');
const PASS_V2: RouteTls = { mode: 'passthrough', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'v2' };
const REFUSED_CLIENT = '203.0.113.77';
const ADMITTED_CLIENT = '192.0.2.44';

let ca: TestCa;
let upstream: PassthroughUpstream;
let proxy: RunningTlsProxy;
const judged: string[] = [];

before(async () => {
  if (skip) return;
  ca = await openTestCa();
  upstream = await startPassthroughUpstream(ca.dir, 'pve', { names: ['pve.test'], proxyProtocol: true });
  proxy = await startTlsProxy([route('pve', upstream.url, ['pve.test'], { tls: PASS_V2 })], new TestCertificates(await ca.leaf(['gatehouse.home.arpa'])), {
    engine: {
      settings: { ...proxySettings(), proxyProtocolFrom: ['127.0.0.1'] },
      // A stand-in for AccessRules.connectionJudge: refuses one address, as a deny list entry would.
      connectionJudge: () => (address) => {
        judged.push(address);
        return address === REFUSED_CLIENT ? new ProxyError('access_denied', `${address} is on the deny list.`, { rule: 'list Test: deny 203.0.113.77' }) : null;
      },
    },
  });
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await ca?.remove();
});

/** A front's connection: a PROXY v1 header naming `client`, then TLS for pve.test. Resolves with the certificate's fingerprint, or null when closed first. */
function throughFront(client: string, clientPort: number): Promise<string | null> {
  return within(
    new Promise<string | null>((resolve) => {
      const raw = connect(proxy.httpsPort, '127.0.0.1', () => {
        raw.write(`PROXY TCP4 ${client} 127.0.0.1 ${clientPort} ${proxy.httpsPort}\r\n`);
        const tls: TLSSocket = tlsConnect({ socket: raw, servername: 'pve.test', rejectUnauthorized: false });
        tls.once('secureConnect', () => {
          const fingerprint = tls.getPeerX509Certificate()?.fingerprint256 ?? null;
          tls.destroy();
          raw.destroy();
          resolve(fingerprint);
        });
        tls.once('error', () => resolve(null));
        tls.once('close', () => resolve(null));
      });
      raw.on('error', () => resolve(null));
    }),
    10_000,
    'a connection through the front',
  );
}

test('the client a trusted front names is judged: refused before the upstream hears of it, logged under its address', { skip }, async () => {
  const before = upstream.connections;
  assert.equal(await throughFront(REFUSED_CLIENT, 40000), null);
  const entry = await proxy.nextLogged((e) => e.client === REFUSED_CLIENT);
  assert.deepEqual([entry.method, entry.host, entry.status, entry.error, entry.rule, entry.upstream], ['TLS', 'pve.test', 403, 'access_denied', 'list Test: deny 203.0.113.77', null]);
  assert.equal(upstream.connections, before);
  assert.ok(judged.includes(REFUSED_CLIENT) && !judged.includes('127.0.0.1'), `judged ${judged.join(', ')}`);
});

test('an admitted client reaches the upstream, whose PROXY v2 header names the real client', { skip }, async () => {
  assert.equal(await throughFront(ADMITTED_CLIENT, 41234), upstream.fingerprint256);
  const header = upstream.headers.at(-1);
  assert.equal(header?.version, 2);
  assert.equal(header?.source?.address, ADMITTED_CLIENT);
  // The front's header gave no port Gatehouse keeps: 0 rather than the front's own port.
  assert.equal(header?.source?.port, 0);
  const entry = await proxy.nextLogged((e) => e.client === ADMITTED_CLIENT);
  assert.deepEqual([entry.status, entry.upstream], [0, `127.0.0.1:${upstream.port}`]);
});
