// Settings 8 → 9 and the stream schema: a file from before streams loads unchanged in meaning, and
// what a stream may not be (an overlapping port, a range for FTP, FTPS without a certificate) is
// refused with words that say what to change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTINGS_VERSION, SettingsSchema, defaultSettings } from '../../shared/model.js';
import { parseStreamAddress, StreamInputSchema, type Stream } from '../../shared/streams.js';
import { decodeSettings } from '../../src-main/core/settings/decode.js';

test('a version 8 file gains no streams, and every route gains proxyProtocol "off"', () => {
  const raw = {
    version: 8,
    routes: [{ id: 'r1', names: ['jellyfin.home.arpa'], upstreams: [{ url: 'http://10.33.0.4:8096' }], tls: { mode: 'local', certificateId: null, acme: null, redirectHttp: true, hsts: false } }],
  };
  const decoded = decodeSettings(JSON.stringify(raw));
  assert.equal(decoded.kind, 'usable', JSON.stringify(decoded));
  if (decoded.kind !== 'usable') throw new Error('unreachable');
  assert.equal(decoded.migratedFrom, 8);
  assert.equal(decoded.settings.version, SETTINGS_VERSION);
  assert.deepEqual(decoded.settings.streams, []);
  assert.equal(decoded.settings.routes[0]!.tls.proxyProtocol, 'off');
});

test('stream addresses: host:port normalized, and each mistake named', () => {
  assert.deepEqual(parseStreamAddress(' 10.33.0.5:22 '), { address: '10.33.0.5:22', host: '10.33.0.5', port: 22 });
  assert.deepEqual(parseStreamAddress('[FD00::5]:22'), { address: '[fd00::5]:22', host: 'fd00::5', port: 22 });
  assert.equal((parseStreamAddress('NAS.lan:21') as { address: string }).address, 'nas.lan:21');
  assert.match((parseStreamAddress('10.33.0.5') as { problem: string }).problem, /has no port/);
  assert.match((parseStreamAddress('ssh://10.33.0.5:22') as { problem: string }).problem, /has a scheme/);
  assert.match((parseStreamAddress('10.33.0.5:70000') as { problem: string }).problem, /port 70000/);
  assert.match((parseStreamAddress('[fd00::12345]:22') as { problem: string }).problem, /not an IPv6 address/);
});

test('stream input: defaults, and the per-stream rules', () => {
  const ssh = StreamInputSchema.parse({ title: 'NAS SSH', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] });
  assert.equal(ssh.enabled, true);
  assert.equal(ssh.access.exposure, 'lan');
  assert.equal(ssh.healthCheck.enabled, true);
  const issues = (input: object) => {
    const result = StreamInputSchema.safeParse(input);
    assert.equal(result.success, false, JSON.stringify(input));
    return result.error!.issues.map((issue) => issue.message).join(' | ');
  };
  const base = { title: 'x', protocol: 'tcp', listenPort: 2000, upstreams: ['10.0.0.1:22'] };
  assert.match(issues({ ...base, listenPortEnd: 1999 }), /ends above where it starts/);
  assert.match(issues({ ...base, listenPortEnd: 2000 + 256 }), /at most 256 ports/);
  assert.match(issues({ ...base, protocol: 'ftp' }), /needs a passive port range/);
  assert.match(issues({ ...base, protocol: 'udp', proxyProtocol: 'v2' }), /TCP streams only/);
  assert.match(issues({ ...base, upstreams: ['10.0.0.1:22', '10.0.0.1:22'] }), /listed twice/);
  assert.match(issues({ ...base, protocol: 'ftp', ftp: { passivePortFrom: 30000, passivePortTo: 30009 } }), /FTPS needs a certificate/);
  assert.match(issues({ ...base, protocol: 'ftp', listenPort: 30005, ftp: { passivePortFrom: 30000, passivePortTo: 30009, tls: 'off' } }), /includes the control port 30005/);
  assert.match(issues({ ...base, protocol: 'udp', healthCheck: { udpProbeHex: 'xyz' } }), /hex bytes/);
});

function stream(id: string, fields: Partial<Stream> & Pick<Stream, 'protocol' | 'listenPort'>): Stream {
  return { id, ...StreamInputSchema.parse({ title: id, upstreams: ['10.0.0.9:1'], ...fields }) } as Stream;
}

test('settings: streams may not share a port with each other or with the proxy, but TCP and UDP may share a number', () => {
  const settings = defaultSettings();
  const ok = SettingsSchema.safeParse({ ...settings, streams: [stream('dns-udp', { protocol: 'udp', listenPort: 5353 }), stream('dns-tcp', { protocol: 'tcp', listenPort: 5353 })] });
  assert.equal(ok.success, true, JSON.stringify(ok.error?.issues));
  const clash = SettingsSchema.safeParse({ ...settings, streams: [stream('a', { protocol: 'tcp', listenPort: 2000, listenPortEnd: 2010 }), stream('b', { protocol: 'tcp', listenPort: 2005 })] });
  assert.match(clash.error!.issues[0]!.message, /stream "a" and stream "b" both use TCP port 2005/);
  const proxy = SettingsSchema.safeParse({ ...settings, streams: [stream('web', { protocol: 'tcp', listenPort: 443 })] });
  assert.match(proxy.error!.issues[0]!.message, /the proxy's HTTPS port and stream "web" both use TCP port 443/);
  const passive = SettingsSchema.safeParse({
    ...settings,
    streams: [stream('ssh', { protocol: 'tcp', listenPort: 30003 }), stream('ftp', { protocol: 'ftp', listenPort: 2121, ftp: { passivePortFrom: 30000, passivePortTo: 30009, tls: 'off', certificateRouteId: null, publicAddress: null, allowActive: true } })],
  });
  assert.match(passive.error!.issues[0]!.message, /the FTP passive range of "ftp" both use TCP port 30003/);
  const disabled = SettingsSchema.safeParse({ ...settings, streams: [stream('web', { protocol: 'tcp', listenPort: 443, enabled: false })] });
  assert.equal(disabled.success, true);
});

test('settings: FTPS takes its certificate from a route that has one; lists must exist', () => {
  const settings = defaultSettings();
  const ftp = (routeId: string) => stream('ftp', { protocol: 'ftp', listenPort: 2121, ftp: { passivePortFrom: 30000, passivePortTo: 30009, tls: 'explicit', certificateRouteId: routeId, publicAddress: null, allowActive: true } });
  const missing = SettingsSchema.safeParse({ ...settings, streams: [ftp('gone')] });
  assert.match(missing.error!.issues[0]!.message, /route "gone", which does not exist/);
  const route = { id: 'r1', title: 'NAS', names: ['nas.home.arpa'], upstreams: [{ url: 'http://10.0.0.2:5000' }] };
  const plain = SettingsSchema.safeParse({ ...settings, routes: [route], streams: [ftp('r1')] });
  assert.match(plain.error!.issues[0]!.message, /route "NAS", which has no certificate of Gatehouse's/);
  const withTls = SettingsSchema.safeParse({ ...settings, routes: [{ ...route, tls: { mode: 'local' } }], streams: [ftp('r1')] });
  assert.equal(withTls.success, true, JSON.stringify(withTls.error?.issues));
  const list = SettingsSchema.safeParse({ ...settings, streams: [stream('s', { protocol: 'tcp', listenPort: 2222, access: { exposure: 'lan', lists: ['nope'], countries: { mode: 'off', countries: [] } } })] });
  assert.match(list.error!.issues[0]!.message, /access list "nope", which does not exist/);
});

test('settings: a passed-through route cannot ask for a sign-in', () => {
  const settings = defaultSettings();
  const route = { id: 'r1', title: 'Proxmox', names: ['pve.home.arpa'], upstreams: [{ url: 'https://10.0.0.3:8006' }], tls: { mode: 'passthrough' }, access: { signIn: { method: 'basic' } } };
  const result = SettingsSchema.safeParse({ ...settings, routes: [route] });
  assert.match(result.error!.issues[0]!.message, /passes TLS through, so Gatehouse never sees its requests and cannot ask for a sign-in/);
});
