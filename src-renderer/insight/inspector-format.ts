// What the route page's request inspector shows of a capture: bodies as text (when their type is
// text) or a hex dump, the phases as the parts of a timing bar, and the export files (JSON as the
// API returned it, or HAR 1.2 for browsers' and other tools' viewers) made in the page.
import type { CapturedBody, CapturedRequest } from '../../shared/insight.js';

export function bodyBytes(body: CapturedBody): Uint8Array {
  const text = atob(body.base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The kept bytes as text, when the body's type is text and they decode as UTF-8; else null. */
export function bodyText(body: CapturedBody): string | null {
  if (body.contentType === null) return null;
  try {
    // A body cut at bodyBytes may end inside a character: that one is dropped, not an error.
    return new TextDecoder('utf-8', { fatal: true }).decode(bodyBytes(body), { stream: body.truncated });
  } catch {
    return null;
  }
}

/** A hex dump of the first `limit` kept bytes: offset, 16 bytes, their printable characters. */
export function hexDump(bytes: Uint8Array, limit = 256): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, limit);
  for (let offset = 0; offset < end; offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, end));
    const hex = Array.from(row, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
    const chars = Array.from(row, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${chars}`);
  }
  return lines.join('\n');
}

/** "4,096 of 48,213 bytes kept", "182 bytes", "no body", "size unknown (cut)". */
export function bodySize(body: CapturedBody): string {
  const kept = Math.floor((body.base64.length * 3) / 4) - (body.base64.endsWith('==') ? 2 : body.base64.endsWith('=') ? 1 : 0);
  if (body.totalBytes === null) return kept > 0 ? `${kept.toLocaleString()} bytes kept; the rest never came (cut)` : 'cut before any byte';
  if (body.totalBytes === 0) return 'no body';
  if (body.truncated) return `${kept.toLocaleString()} of ${body.totalBytes.toLocaleString()} bytes kept`;
  return `${body.totalBytes.toLocaleString()} bytes`;
}

export interface TimingPart {
  label: string;
  ms: number;
  /** Share of the whole bar, 0–100. */
  percent: number;
}

/**
 * The bar's parts: until the upstream connection was ready, waiting for the answer's head, then the
 * body. A phase that never happened (Gatehouse answered itself) is left out.
 */
export function timingParts(phases: CapturedRequest['phases']): TimingPart[] {
  const total = phases.totalMs;
  if (total === null || total <= 0) return [];
  const parts: TimingPart[] = [];
  let at = 0;
  const add = (label: string, until: number | null) => {
    if (until === null) return;
    const ms = Math.max(0, until - at);
    parts.push({ label, ms, percent: (ms / total) * 100 });
    at = Math.max(at, until);
  };
  add('Connect', phases.connectedMs);
  add('Wait for answer', phases.headersMs);
  add(phases.headersMs === null ? 'Until the end' : 'Body', total);
  return parts;
}

export function exportName(routeLabel: string, now: Date, extension: 'json' | 'har'): string {
  const safe = routeLabel.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'route';
  const stamp = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  return `gatehouse-inspector-${safe}-${stamp}.${extension}`;
}

/** HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) of the captures, oldest first. */
export function toHar(captures: readonly CapturedRequest[], version: string): object {
  const headers = (pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));
  const content = (body: CapturedBody, fallbackType: string) => {
    const text = bodyText(body);
    return text !== null ? { size: body.totalBytes ?? -1, mimeType: body.contentType ?? fallbackType, text } : { size: body.totalBytes ?? -1, mimeType: fallbackType, text: body.base64, encoding: 'base64' };
  };
  const typeOf = (pairs: [string, string][]) => pairs.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? 'application/octet-stream';
  return {
    log: {
      version: '1.2',
      creator: { name: 'Gatehouse', version },
      entries: [...captures].reverse().map((capture) => {
        const { connectedMs, headersMs, totalMs } = capture.phases;
        const connect = connectedMs ?? -1;
        const wait = headersMs !== null ? Math.max(0, headersMs - (connectedMs ?? 0)) : 0;
        const receive = totalMs !== null && headersMs !== null ? totalMs - headersMs : 0;
        const query = new URLSearchParams(capture.path.includes('?') ? capture.path.slice(capture.path.indexOf('?') + 1) : '');
        return {
          startedDateTime: capture.time,
          time: totalMs ?? 0,
          request: {
            method: capture.method,
            url: `${capture.scheme}://${capture.host}${capture.path}`,
            httpVersion: capture.httpVersion === '2' ? 'HTTP/2' : 'HTTP/1.1',
            cookies: [],
            headers: headers(capture.requestHeaders),
            queryString: [...query].map(([name, value]) => ({ name, value })),
            ...(capture.requestBody.totalBytes ? { postData: content(capture.requestBody, typeOf(capture.requestHeaders)) } : {}),
            headersSize: -1,
            bodySize: capture.requestBody.totalBytes ?? -1,
          },
          response: {
            status: capture.status ?? 0,
            statusText: '',
            httpVersion: capture.httpVersion === '2' ? 'HTTP/2' : 'HTTP/1.1',
            cookies: [],
            headers: headers(capture.responseHeaders),
            content: content(capture.responseBody, typeOf(capture.responseHeaders)),
            redirectURL: '',
            headersSize: -1,
            bodySize: capture.responseBody.totalBytes ?? -1,
          },
          cache: {},
          timings: { send: 0, connect, wait, receive },
          comment: [capture.replay ? 'replay' : '', capture.error ? `Gatehouse answered: ${capture.error}` : '', capture.upstream ? `upstream ${capture.upstream}` : ''].filter(Boolean).join('; '),
        };
      }),
    },
  };
}
