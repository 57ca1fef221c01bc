// Reads a JSON request body for the admin API: JSON only (415 otherwise), at most 1 MiB (413), and
// an object, since every input is one. Nothing is buffered beyond the limit.
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../../shared/api.js';
import { HttpFailure } from './http-failure.js';

/** The largest request body the admin API reads: 1 MiB, far above any route or settings change. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** A backup being previewed or restored travels as base64: its schema's 64 MiB, and room for the passphrase. */
export const BACKUP_BODY_LIMIT_BYTES = 64 * 1024 * 1024 + 64 * 1024;
/**
 * An oversized body is read and thrown away up to this much before the 413 is sent: most clients
 * (fetch among them) only read the answer once they have sent everything, and closing on them
 * mid-upload turns a clear 413 into a broken pipe. Past this the connection is simply closed.
 */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

function tooLarge(limit: number): HttpFailure {
  return new HttpFailure(413, 'invalid_input', `The request body is larger than the ${Math.floor(limit / 1024 / 1024)} MiB the admin API accepts.`, {
    connection: 'close',
  });
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Collects the body as text. Past the limit it stops collecting but reads on (up to the discard
 * limit) so the socket survives to carry the 413 (an async iterator would destroy it on exit).
 */
function readText(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null) => {
      request.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > Math.max(DISCARD_LIMIT_BYTES, limit)) finish(tooLarge(limit));
      else if (size <= limit) chunks.push(chunk);
    };
    const onEnd = () => finish(size > limit ? tooLarge(limit) : null);
    const onClose = () => finish(Object.assign(new Error('the client closed the connection before sending the whole body'), { code: 'ECONNABORTED' }));
    request.on('data', onData).on('end', onEnd).on('error', finish).on('close', onClose);
  });
}

/** The body as an object; `{}` when there is none. Throws HttpFailure (413, 415) or ApiError (400). */
export async function readJsonBody(request: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<Record<string, unknown>> {
  if (!hasBody(request)) return {};
  if (!isJson(request.headers['content-type'])) {
    throw new HttpFailure(415, 'invalid_input', 'Send the request body as JSON, with the header "Content-Type: application/json".', {
      connection: 'close',
    });
  }
  if (Number(request.headers['content-length']) > Math.max(DISCARD_LIMIT_BYTES, limit)) throw tooLarge(limit);

  const text = await readText(request, limit);
  if (text.trim() === '') return {};

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ApiError('invalid_input', `The request body is not valid JSON (${(error as Error).message}).`, {
      issues: [{ path: '', message: 'not valid JSON' }],
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('invalid_input', 'The request body must be a JSON object, such as {"names": ["jellyfin.home.arpa"], "upstream": "10.33.0.4:8096"}.', {
      issues: [{ path: '', message: 'expected a JSON object' }],
    });
  }
  return body as Record<string, unknown>;
}
