// Writing an upstream's response head to the client, as Node allows it.
import type { Exchange } from './exchange.js';

function writeHead(res: Exchange['res'], status: number, message: string | undefined, headers: Record<string, string | string[]>): void {
  if (message) res.writeHead(status, message, headers);
  else res.writeHead(status, headers);
}

/** Writes the upstream's head; returns the headers as written. Throws what Node refuses. */
export function writeResponseHead(res: Exchange['res'], status: number, message: string | undefined, headers: Record<string, string | string[]>): Record<string, string | string[]> {
  try {
    writeHead(res, status, message, headers);
    return headers;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_INVALID_CHAR') throw error;
  }
  // undici decodes header bytes as UTF-8; a value such as a Content-Disposition file name with
  // non-ASCII characters then holds characters Node will not write. Their UTF-8 bytes as latin1
  // characters are exactly what the service sent. Node 20 refuses them in writeHead next to a
  // Content-Length, takes them through setHeader, and writes them unchanged only if that head is
  // flushed on its own (joined to a body it re-encodes them). Both cases are pinned by
  // test/integration/proxy-header-bytes.test.ts.
  const out = headerBytesAsLatin1(headers);
  for (const name in out) res.setHeader(name, out[name] as string | string[]);
  writeHead(res, status, message, {});
  if (out['content-length'] !== undefined) res.flushHeaders();
  return out;
}

const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

function headerBytesAsLatin1(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const recode = (value: string) => (BEYOND_LATIN1.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name] as string | string[];
    out[name] = Array.isArray(value) ? value.map(recode) : recode(value);
  }
  return out;
}

