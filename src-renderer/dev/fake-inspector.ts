// The fake Gatehouse's request inspector: per route on/off with keep and bodyBytes, captures kept
// newest first in a ring, clear, and a replay that adds a capture marked as one. The screenshots'
// busy home lab seeds Jellyfin with realistic captures (seed()); secrets show masked as the real
// API returns them.
import { ApiError } from '../../shared/api.js';
import type { CapturedBody, CapturedRequest, InspectorView } from '../../shared/insight.js';
import type { Route } from '../../shared/model.js';

interface Inspected {
  keep: number;
  bodyBytes: number;
  captures: CapturedRequest[];
}

const masked = (length: number) => `••• masked (${length} characters)`;

function body(text: string, contentType: string | null, totalBytes = new TextEncoder().encode(text).length): CapturedBody {
  const bytes = new TextEncoder().encode(text);
  return { base64: base64(bytes), totalBytes, truncated: totalBytes > bytes.length, contentType };
}

function binary(kept: number, totalBytes: number): CapturedBody {
  // A JPEG's first bytes, then a repeating pattern.
  const bytes = new Uint8Array(kept);
  const head = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00];
  for (let i = 0; i < kept; i++) bytes[i] = head[i] ?? (i * 37 + 11) % 256;
  return { base64: base64(bytes), totalBytes, truncated: totalBytes > kept, contentType: null };
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

const none: CapturedBody = { base64: '', totalBytes: 0, truncated: false, contentType: null };
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** Realistic captures of a Jellyfin route, newest first. */
export function sampleCaptures(host: string, now = Date.now()): CapturedRequest[] {
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
  const common: [string, string][] = [
    ['Host', host],
    ['User-Agent', BROWSER],
    ['Accept-Language', 'en-GB,en;q=0.9,de;q=0.8'],
  ];
  return [
    {
      id: 'c6',
      time: at(4),
      client: '192.168.1.42',
      method: 'POST',
      path: '/Sessions/Playing/Progress',
      host,
      requestHeaders: [
        ...common,
        ['Content-Type', 'application/json'],
        ['Authorization', masked(212)],
        ['X-Emby-Token', masked(32)],
      ],
      requestBody: body('{"ItemId":"8c1d2f7e0a9b4c3d","PositionTicks":18734000000,"IsPaused":false,"PlayMethod":"DirectPlay","PlaySessionId":"3f2a"}', 'application/json'),
      status: 204,
      responseHeaders: [
        ['date', new Date(now - 4000).toUTCString()],
        ['server', 'Kestrel'],
      ],
      responseBody: none,
      upstream: '10.33.0.4:8096',
      phases: { connectedMs: 0.4, headersMs: 11.8, totalMs: 12.3 },
      error: null,
      replay: false,
      scheme: 'https',
      httpVersion: '2',
    },
    {
      id: 'c5',
      time: at(9),
      client: '192.168.1.42',
      method: 'GET',
      path: '/Items/8c1d2f7e0a9b4c3d/Images/Primary?fillHeight=396&fillWidth=264&quality=96',
      host,
      requestHeaders: [...common, ['Accept', 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'], ['Cookie', masked(96)]],
      requestBody: none,
      status: 200,
      responseHeaders: [
        ['content-type', 'image/jpeg'],
        ['content-length', '48213'],
        ['cache-control', 'public, max-age=2592000'],
        ['last-modified', 'Sat, 28 Nov 2026 18:02:11 GMT'],
      ],
      responseBody: binary(4096, 48213),
      upstream: '10.33.0.4:8096',
      phases: { connectedMs: 1.2, headersMs: 38.6, totalMs: 44.9 },
      error: null,
      replay: false,
      scheme: 'https',
      httpVersion: '2',
    },
    {
      id: 'c4',
      time: at(31),
      client: '192.168.1.42',
      method: 'GET',
      path: '/System/Info/Public',
      host,
      requestHeaders: [...common, ['Accept', 'application/json']],
      requestBody: none,
      status: 200,
      responseHeaders: [
        ['content-type', 'application/json; charset=utf-8'],
        ['content-length', '182'],
        ['set-cookie', masked(61)],
        ['content-security-policy', "default-src 'self' data: blob:; script-src 'self' 'unsafe-inline' https://www.gstatic.com https://www.youtube.com; worker-src 'self' blob:; connect-src 'self' wss: https://www.gstatic.com"],
      ],
      responseBody: body('{"LocalAddress":"http://10.33.0.4:8096","ServerName":"media","Version":"10.10.3","ProductName":"Jellyfin Server","Id":"5f1c9d1c7e2b4b36a5e4","StartupWizardCompleted":true}', 'application/json; charset=utf-8'),
      upstream: '10.33.0.4:8096',
      phases: { connectedMs: 0.3, headersMs: 6.1, totalMs: 6.4 },
      error: null,
      replay: false,
      scheme: 'https',
      httpVersion: '2',
    },
    {
      id: 'c3',
      time: at(95),
      client: '192.168.1.57',
      method: 'GET',
      path: '/Videos/8c1d2f7e0a9b4c3d/master.m3u8?MediaSourceId=8c1d2f7e0a9b4c3d&VideoCodec=h264&AudioCodec=aac',
      host,
      requestHeaders: [...common, ['Accept', '*/*']],
      requestBody: none,
      status: 504,
      responseHeaders: [
        ['content-type', 'text/html; charset=utf-8'],
        ['cache-control', 'no-store'],
        ['content-length', '1260'],
      ],
      responseBody: body('<!doctype html><html lang="en"><head><title>504 Jellyfin did not answer in time</title></head><body><h1>Jellyfin did not answer in time</h1><p>Gatehouse waited 60 seconds for an answer.</p></body></html>', 'text/html; charset=utf-8', 1260),
      upstream: '10.33.0.4:8096',
      phases: { connectedMs: 0.9, headersMs: null, totalMs: 60_004.2 },
      error: 'upstream_timeout',
      replay: false,
      scheme: 'https',
      httpVersion: '2',
    },
    {
      id: 'c2',
      time: at(140),
      client: '192.168.1.42',
      method: 'POST',
      path: '/Users/AuthenticateByName',
      host,
      requestHeaders: [...common, ['Content-Type', 'application/json'], ['X-Emby-Authorization', masked(160)]],
      requestBody: body('{"Username":"anna","Pw":"…"}', 'application/json', 6200),
      status: 200,
      responseHeaders: [['content-type', 'application/json; charset=utf-8']],
      responseBody: body('{"User":{"Name":"anna","Id":"e2b4…"},"SessionInfo":{"Client":"Jellyfin Web"}}', 'application/json; charset=utf-8', 5120),
      upstream: '10.33.0.4:8096',
      phases: { connectedMs: 0.5, headersMs: 145.2, totalMs: 146.0 },
      error: null,
      replay: false,
      scheme: 'https',
      httpVersion: '2',
    },
    {
      id: 'c1',
      time: at(300),
      client: '192.168.1.42',
      method: 'GET',
      path: '/web/index.html',
      host,
      requestHeaders: [...common, ['If-None-Match', '"1db41c7e5a2f"']],
      requestBody: none,
      status: 304,
      responseHeaders: [['etag', '"1db41c7e5a2f"']],
      responseBody: none,
      upstream: '10.33.0.4:8096',
      phases: { connectedMs: 0.3, headersMs: 2.2, totalMs: 2.4 },
      error: null,
      replay: false,
      // Opened over plain HTTP (before the redirect to HTTPS was turned on).
      scheme: 'http',
      httpVersion: '1.1',
    },
  ];
}

export class FakeInspector {
  readonly #routes: () => readonly Route[];
  readonly #inspected = new Map<string, Inspected>();
  #next = 100;

  constructor(routes: () => readonly Route[] = () => []) {
    this.#routes = routes;
  }

  /** Turns the inspector on for `routeId` with captures (the screenshots' busy home lab). */
  seed(routeId: string, captures: CapturedRequest[]): void {
    this.#inspected.set(routeId, { keep: 50, bodyBytes: 4096, captures });
  }

  #route(routeId: string): void {
    if (!this.#routes().some((route) => route.id === routeId)) throw new ApiError('not_found', `There is no route "${routeId}"; it may have been removed.`);
  }

  view(routeId: string): InspectorView {
    this.#route(routeId);
    const entry = this.#inspected.get(routeId);
    if (!entry) return { routeId, enabled: false, keep: 50, bodyBytes: 4096, captures: [], bytesHeld: 0 };
    const bytesHeld = entry.captures.reduce((sum, capture) => sum + 600 + capture.requestBody.base64.length * 0.75 + capture.responseBody.base64.length * 0.75, 0);
    return { routeId, enabled: true, keep: entry.keep, bodyBytes: entry.bodyBytes, captures: structuredClone(entry.captures), bytesHeld: Math.round(bytesHeld) };
  }

  set({ routeId, enabled, keep, bodyBytes }: { routeId: string; enabled: boolean; keep?: number | undefined; bodyBytes?: number | undefined }): InspectorView {
    this.#route(routeId);
    const entry = this.#inspected.get(routeId);
    if (!enabled) this.#inspected.delete(routeId);
    else if (entry) {
      entry.keep = keep ?? entry.keep;
      entry.bodyBytes = bodyBytes ?? entry.bodyBytes;
      entry.captures = entry.captures.slice(0, entry.keep);
    } else this.#inspected.set(routeId, { keep: keep ?? 50, bodyBytes: bodyBytes ?? 4096, captures: [] });
    return this.view(routeId);
  }

  clear(routeId: string): InspectorView {
    this.#route(routeId);
    const entry = this.#inspected.get(routeId);
    if (entry) entry.captures = [];
    return this.view(routeId);
  }

  replay({ routeId, captureId }: { routeId: string; captureId: string }): { capture: CapturedRequest } {
    this.#route(routeId);
    const entry = this.#inspected.get(routeId);
    if (!entry) throw new ApiError('conflict', 'The request inspector is off for this route: turn it on to capture and replay requests.');
    const original = entry.captures.find((capture) => capture.id === captureId);
    if (!original) throw new ApiError('not_found', `There is no captured request "${captureId}" any more: newer requests may have pushed it out, or the captures were cleared.`);
    if (original.requestBody.truncated) {
      throw new ApiError('conflict', `This request cannot be replayed. Its body (${original.requestBody.totalBytes} bytes) was longer than the ${entry.bodyBytes} bytes kept, so it cannot be sent again as it was. Keep more body bytes (at most 64 KiB) to replay requests like it.`);
    }
    const capture: CapturedRequest = {
      ...structuredClone(original),
      id: `c${this.#next++}`,
      time: new Date().toISOString(),
      client: '127.0.0.1',
      replay: true,
      status: original.error ? 200 : original.status,
      error: null,
      phases: { connectedMs: 0.3, headersMs: 5.2, totalMs: 5.6 },
    };
    entry.captures = [capture, ...entry.captures].slice(0, entry.keep);
    return { capture: structuredClone(capture) };
  }
}
