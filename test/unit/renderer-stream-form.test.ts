// The stream form's logic: a preset fills protocol, port, probe and FTPS; a port or a range is read
// and written back; the schema's and the server's problems land on the field that fixes them (paths
// such as listenPort, ftp.passivePortFrom, streams.2.ftp.certificateRouteId and `streams`); a port
// below 1024 is explained before saving; an invalid form calls nothing.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { DNS_PROBE_HEX, StreamInputSchema } from '../../shared/streams.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const { StreamForm, parsePorts, formatPorts, presetValues, streamFieldOf, streamInputFrom, streamValuesOf, rangeExplained, lowPortHint, emptyStreamValues } = await import(
  '../../src-renderer/streams/stream-form.svelte.js'
);

describe('stream form: presets', () => {
  it('SSH suggests TCP 2222 (22 is below 1024) and keeps FTP options off', () => {
    const values = presetValues('ssh');
    assert.equal(values.protocol, 'tcp');
    assert.equal(values.ports, '2222');
    assert.equal(streamInputFrom(values).ftp, null);
  });

  it('DNS is UDP with the DNS probe filled in, on 1053 (5353 is mDNS)', () => {
    const values = presetValues('dns');
    assert.equal(values.protocol, 'udp');
    assert.equal(values.ports, '1053');
    assert.equal(values.health.udpProbeHex, DNS_PROBE_HEX);
    assert.equal(streamInputFrom(values).healthCheck?.udpProbeHex, DNS_PROBE_HEX);
  });

  it('FTPS requires TLS, FTP offers it; both are FTP streams with a passive range', () => {
    assert.equal(presetValues('ftps').ftp.tls, 'required');
    assert.equal(presetValues('ftp').ftp.tls, 'explicit');
    const input = streamInputFrom({ ...presetValues('ftp'), title: 'NAS FTP', upstreams: ['10.33.0.5:21'] });
    assert.equal(input.protocol, 'ftp');
    assert.deepEqual([input.ftp?.passivePortFrom, input.ftp?.passivePortTo], [30000, 30049]);
  });

  it('Minecraft, WireGuard and MQTT keep their own ports', () => {
    assert.equal(presetValues('minecraft').ports, '25565');
    assert.equal(presetValues('wireguard').ports, '51820');
    assert.equal(presetValues('wireguard').protocol, 'udp');
    assert.equal(presetValues('wireguard').health.udpProbeHex, '', 'WireGuard answers only its peers: no probe');
    assert.equal(presetValues('mqtt').ports, '1883');
  });

  it('choosing another preset changes the title that was the old preset’s, not one the person typed', () => {
    const form = new StreamForm(presetValues('ssh'));
    form.values.title = 'SSH';
    form.choosePreset('mqtt');
    assert.equal(form.values.title, 'MQTT');
    form.values.title = 'Broker';
    form.values.upstreams = ['10.33.0.7:1883'];
    form.choosePreset('minecraft');
    assert.equal(form.values.title, 'Broker');
    assert.deepEqual(form.values.upstreams, ['10.33.0.7:1883'], 'servers stay');
    assert.equal(form.values.ports, '25565', 'the suggested port follows the preset');
    form.values.ports = '25570';
    form.choosePreset('mqtt');
    assert.equal(form.values.ports, '25570', 'a port the person chose stays');
  });
});

describe('stream form: ports and ranges', () => {
  it('reads one port, a range with a hyphen or an en dash, and says what is wrong otherwise', () => {
    assert.deepEqual(parsePorts('2222'), { from: 2222, to: null });
    assert.deepEqual(parsePorts(' 27015-27020 '), { from: 27015, to: 27020 });
    assert.deepEqual(parsePorts('27015 – 27020'), { from: 27015, to: 27020 });
    assert.deepEqual(parsePorts('8080-8080'), { from: 8080, to: null }, 'a range of one is one port');
    assert.match((parsePorts('ssh') as { problem: string }).problem, /not a port or a range/);
    assert.match((parsePorts('') as { problem: string }).problem, /enter a port/);
  });

  it('writes a port or a range back the way it is typed', () => {
    assert.equal(formatPorts(2222, null), '2222');
    assert.equal(formatPorts(27015, 27020), '27015-27020');
  });

  it('explains a range’s mapping onto the first server, one to one or shifted', () => {
    assert.equal(rangeExplained({ ports: '27015-27020', upstreams: ['10.33.0.8:27015'] }), '27015–27020 → 10.33.0.8:27015–27020 (one to one)');
    assert.equal(rangeExplained({ ports: '27015-27020', upstreams: ['10.33.0.8:37015'] }), '27015–27020 → 10.33.0.8:37015–37020 (each port shifted by +10000)');
    assert.equal(rangeExplained({ ports: '2222', upstreams: ['10.33.0.5:22'] }), null);
  });

  it('round-trips a saved stream through the form unchanged', () => {
    const stream = { id: 's1', ...StreamInputSchema.parse({ title: 'Games', protocol: 'udp', listenPort: 27015, listenPortEnd: 27020, upstreams: ['10.33.0.8:27015', '10.33.0.9:27015'], idleTimeoutMs: 90_000 }) };
    const again = StreamInputSchema.parse(streamInputFrom(streamValuesOf(stream)));
    assert.deepEqual({ id: 's1', ...again }, stream);
  });

  it('says before saving that a port below 1024 needs a right, with the fix', () => {
    const hint = lowPortHint({ ports: '21', protocol: 'ftp', ftp: emptyStreamValues().ftp });
    assert.ok(hint);
    assert.match(hint, /Port 21 is below 1024/);
    assert.match(hint, /2121/);
    assert.match(hint, /setcap 'cap_net_bind_service=\+ep'/);
    assert.equal(lowPortHint({ ports: '2121', protocol: 'ftp', ftp: emptyStreamValues().ftp }), null);
  });
});

describe('stream form: problems on their fields', () => {
  it('maps issue paths (own, from the settings file, and the port clash) to fields', () => {
    assert.equal(streamFieldOf('listenPort'), 'ports');
    assert.equal(streamFieldOf('listenPortEnd'), 'ports');
    assert.equal(streamFieldOf('streams'), 'ports', 'two streams on one port: fixed at the listen port');
    assert.equal(streamFieldOf('ftp.passivePortFrom'), 'ftp.passivePorts');
    assert.equal(streamFieldOf('ftp.passivePortTo'), 'ftp.passivePorts');
    assert.equal(streamFieldOf('streams.2.ftp.certificateRouteId'), 'ftp.certificateRouteId');
    assert.equal(streamFieldOf('streams.0.access.lists'), 'accessLists');
    assert.equal(streamFieldOf('upstreams.1'), 'upstreams.1');
    assert.equal(streamFieldOf('upstreams'), 'upstreams');
    assert.equal(streamFieldOf('healthCheck.udpProbeHex'), 'health.udpProbeHex');
    assert.equal(streamFieldOf('idleTimeoutMs'), 'idleTimeoutS');
    assert.equal(streamFieldOf('somethingElse'), null);
  });

  it('on submit shows each field’s problem and calls nothing', async () => {
    const form = new StreamForm({ ...presetValues('ssh'), title: '', ports: 'twenty', upstreams: ['10.33.0.5'] });
    let calls = 0;
    const saved = await form.submit(async () => {
      calls += 1;
      throw new Error('must not be called');
    });
    assert.equal(saved, null);
    assert.equal(calls, 0);
    assert.match(form.message('title') ?? '', /give the stream a name/);
    assert.match(form.message('ports') ?? '', /"twenty" is not a port or a range/);
    assert.match(form.message('upstreams.0') ?? '', /has no port; write it as 10.33.0.5:PORT/);
  });

  it('FTPS without a certificate route is refused at the certificate picker', async () => {
    const form = new StreamForm({ ...presetValues('ftps'), title: 'FTP', upstreams: ['10.33.0.5:21'] });
    assert.equal(await form.submit(async () => assert.fail('not sent')), null);
    assert.match(form.message('ftp.certificateRouteId') ?? '', /FTPS needs a certificate/);
  });

  it('puts the server’s refusals on the listen port (clash) and the passive range', async () => {
    const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'route-a', names: ['nas.home.arpa'] })] });
    const api = createApiClient(fake);
    await api.addStream({ title: 'NAS SSH', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] });
    const form = new StreamForm({ ...presetValues('sftp'), title: 'Backup SFTP', upstreams: ['10.33.0.6:22'] });
    assert.equal(form.values.ports, '2222');
    assert.equal(await form.submit((input) => api.addStream(input)), null);
    assert.match(form.message('ports') ?? '', /stream "NAS SSH" and stream "Backup SFTP" both use TCP port 2222/);
    assert.equal(form.error, null, 'on the field, not repeated in the alert');

    form.fieldErrors.edited('ports');
    fake.failNext('addStream', new ApiError('invalid_input', 'ftp.passivePortFrom: taken', { issues: [{ path: 'ftp.passivePortFrom', message: 'ports 30000–30049 are taken' }] }));
    form.values.ports = '2223';
    assert.equal(await form.submit((input) => api.addStream(input)), null);
    assert.equal(form.message('ports'), null);
    assert.equal(form.message('ftp.passivePorts'), 'ports 30000–30049 are taken');

    const view = await form.submit((input) => api.addStream(input));
    assert.ok(view);
    assert.equal(view.stream.listenPort, 2223);
    assert.equal(view.status.state, 'listening');
  });

  it('a saved stream on a port below 1024 comes back failed with the problem and the fix', async () => {
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    const form = new StreamForm({ ...presetValues('ssh'), title: 'SSH', ports: '22', upstreams: ['10.33.0.5:22'] });
    const view = await form.submit((input) => api.addStream(input));
    assert.ok(view);
    assert.equal(view.status.state, 'failed');
    assert.match(view.status.problem?.message ?? '', /port 22 is below 1024/);
    assert.match(view.status.problem?.fix ?? '', /setcap/);
  });
});
