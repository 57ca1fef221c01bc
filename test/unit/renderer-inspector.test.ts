// The route page's request inspector, below the component: what a capture's body shows (text when
// its type is text and it decodes, else hex), the timing bar's parts, the HAR export, and the fake
// Gatehouse's inspector (on/off, keep, clear, replay refusing a cut body) that the screenshots use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { sampleCaptures } from '../../src-renderer/dev/fake-inspector.js';
import { bodySize, bodyText, exportName, hexDump, timingParts, toHar } from '../../src-renderer/insight/inspector-format.js';

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');

describe('inspector bodies and timing', () => {
  it('shows text bodies as text, a cut multi-byte character dropped, and binary or invalid UTF-8 as hex', () => {
    assert.equal(bodyText({ base64: b64('{"a":1}'), totalBytes: 7, truncated: false, contentType: 'application/json' }), '{"a":1}');
    // "é" is two bytes; the capture kept only the first.
    const cut = Buffer.concat([Buffer.from('caf'), Buffer.from('é').subarray(0, 1)]);
    assert.equal(bodyText({ base64: b64(cut), totalBytes: 10, truncated: true, contentType: 'text/plain' }), 'caf');
    assert.equal(bodyText({ base64: b64(new Uint8Array([0xff, 0xd8])), totalBytes: 2, truncated: false, contentType: null }), null);
    assert.equal(bodyText({ base64: b64(new Uint8Array([0xff, 0xfe, 0x41])), totalBytes: 3, truncated: false, contentType: 'text/plain' }), null, 'not UTF-8: hex');
    assert.equal(hexDump(new Uint8Array([0x47, 0x45, 0x54, 0x00])), '0000  47 45 54 00' + ' '.repeat(36) + '  GET.');
    assert.equal(hexDump(new Uint8Array(40)).split('\n').length, 3);
  });

  it('says how much of a body was kept', () => {
    assert.equal(bodySize({ base64: b64('x'.repeat(100)), totalBytes: 1000, truncated: true, contentType: null }), `100 of ${(1000).toLocaleString()} bytes kept`);
    assert.equal(bodySize({ base64: '', totalBytes: 0, truncated: false, contentType: null }), 'no body');
    assert.equal(bodySize({ base64: b64('abc'), totalBytes: null, truncated: false, contentType: null }), '3 bytes kept; the rest never came (cut)');
  });

  it('splits the total into connect, wait and body; a failure without an answer has no body part', () => {
    const parts = timingParts({ connectedMs: 1, headersMs: 9, totalMs: 10 });
    assert.deepEqual(parts.map((p) => [p.label, p.ms, Math.round(p.percent)]), [['Connect', 1, 10], ['Wait for answer', 8, 80], ['Body', 1, 10]]);
    assert.deepEqual(timingParts({ connectedMs: 2, headersMs: null, totalMs: 60_000 }).map((p) => p.label), ['Connect', 'Until the end']);
    assert.deepEqual(timingParts({ connectedMs: null, headersMs: null, totalMs: null }), []);
  });

  it('exports HAR 1.2, oldest first, binary bodies in base64, and a safe file name', () => {
    const captures = sampleCaptures('jellyfin.home.arpa', Date.parse('2026-12-01T10:00:00Z'));
    const har = toHar(captures, '1.2.3') as { log: { version: string; entries: { request: { method: string; url: string; postData?: { mimeType: string } }; response: { content: { encoding?: string; mimeType: string } }; timings: Record<string, number> }[] } };
    assert.equal(har.log.version, '1.2');
    assert.equal(har.log.entries.length, captures.length);
    assert.equal(har.log.entries[0]?.request.url, 'http://jellyfin.home.arpa/web/index.html');
    const https = har.log.entries.find((entry) => entry.request.url.endsWith('/Progress')) as unknown as { request: { url: string; httpVersion: string } };
    assert.deepEqual([https.request.url, https.request.httpVersion], ['https://jellyfin.home.arpa/Sessions/Playing/Progress', 'HTTP/2'], 'an HTTPS/HTTP/2 request is exported as one');
    const image = har.log.entries.find((entry) => entry.request.url.includes('/Images/'));
    assert.equal(image?.response.content.encoding, 'base64');
    const progress = har.log.entries.find((entry) => entry.request.url.endsWith('/Progress'));
    assert.equal(progress?.request.postData?.mimeType, 'application/json');
    for (const entry of har.log.entries) for (const key of ['send', 'wait', 'receive']) assert.ok((entry.timings[key] ?? -1) >= 0, `${key} is never negative`);
    assert.equal(exportName('Jellyfin (media)', new Date(2026, 11, 6), 'har'), 'gatehouse-inspector-jellyfin-media-2026-12-06.har');
  });
});

describe('the fake inspector', () => {
  it('turns on and off per route, keeps settings, clears, replays, and refuses what the real one refuses', async () => {
    const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'jf', names: ['jellyfin.home.arpa'] })] });
    const api = createApiClient(fake);
    assert.equal((await api.getInspector({ routeId: 'jf' })).enabled, false);
    await assert.rejects(api.getInspector({ routeId: 'nope' }), (error: unknown) => error instanceof ApiError && error.code === 'not_found');
    const on = await api.setInspector({ routeId: 'jf', enabled: true, keep: 3 });
    assert.deepEqual([on.enabled, on.keep, on.bodyBytes], [true, 3, 4096]);
    fake.inspector.seed('jf', sampleCaptures('jellyfin.home.arpa'));
    const seeded = await api.getInspector({ routeId: 'jf' });
    assert.ok(seeded.captures.length > 3);
    const { capture } = await api.replayRequest({ routeId: 'jf', captureId: 'c4' });
    assert.equal(capture.replay, true);
    assert.equal((await api.getInspector({ routeId: 'jf' })).captures[0]?.id, capture.id);
    await assert.rejects(api.replayRequest({ routeId: 'jf', captureId: 'c2' }), (error: unknown) => error instanceof ApiError && error.code === 'conflict' && /longer than/.test(error.message));
    assert.deepEqual((await api.clearInspector({ routeId: 'jf' })).captures, []);
    assert.equal((await api.setInspector({ routeId: 'jf', enabled: false })).enabled, false);
    await assert.rejects(api.setInspector({ routeId: 'jf', enabled: true, keep: 501 }), (error: unknown) => error instanceof ApiError && error.code === 'invalid_input');
  });
});
