// One small, bounded HTTP(S) request to a device on the LAN, for identification: a short connect
// timeout, a deadline for the whole exchange, a capped body, TLS without verification (appliances
// self-sign) and nothing secret sent. It also tells a TLS port probed with plain HTTP (and the
// reverse) apart from a port that does not answer, so the caller can switch scheme.
//
// node:http/https rather than undici: every probe is a one-shot connection to a device we may never
// talk to again (no pool wanted), we need the raw socket to see the first byte a TLS port sends back
// to a plain request, and "stop reading at 64 KiB" is simply destroying that one socket.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';

export interface PeekRequest {
  address: string;
  port: number;
  scheme: 'http' | 'https';
  /** Path and query, starting with "/". */
  path: string;
  /** The Host header (and TLS SNI when it is a name); default the address. */
  hostName?: string;
  /** Time to get a TCP connection. */
  connectTimeoutMs: number;
  /** Time for the whole exchange, connect included. */
  timeoutMs: number;
  /** Bytes of body kept; the connection is closed once this many arrived. */
  maxBodyBytes: number;
  signal?: AbortSignal;
}

export interface PeekedResponse {
  kind: 'response';
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The body was longer than maxBodyBytes (or the deadline hit mid-body): `body` is its start. */
  truncated: boolean;
}

export type PeekResult =
  | PeekedResponse
  /** A plain HTTP request got TLS bytes back, or the port closed without a byte: it wants TLS. */
  | { kind: 'wants-tls' }
  /** A TLS handshake got plain text back: the port speaks plain HTTP. */
  | { kind: 'wants-plain' }
  /** Nothing usable: refused, unreachable, timed out, or not HTTP. `reason` is for evidence. */
  | { kind: 'no-answer'; reason: string };

const USER_AGENT = 'Gatehouse (identifying home-lab services; https://github.com/gatehouse)';

/** The first byte of a TLS record: handshake (0x16) or alert (0x15). */
function isTlsRecordByte(byte: number | undefined): boolean {
  return byte === 0x16 || byte === 0x15;
}

/** OpenSSL's words when the other side answered a ClientHello with something that is not TLS. */
const PLAIN_ON_TLS = /wrong version number|packet length too long|unknown protocol|record layer failure|http request/i;

function hostHeader(hostName: string, port: number, scheme: 'http' | 'https'): string {
  const host = isIP(hostName) === 6 ? `[${hostName}]` : hostName;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return port === defaultPort ? host : `${host}:${port}`;
}

function flattenHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Sends `GET path` and reads at most maxBodyBytes of the answer; never throws except on abort. */
export function peek(options: PeekRequest): Promise<PeekResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<PeekResult>((resolve, reject) => {
    const hostName = options.hostName ?? options.address;
    const headers = {
      Host: hostHeader(hostName, options.port, options.scheme),
      'User-Agent': USER_AGENT,
      Accept: 'text/html,application/json;q=0.9,*/*;q=0.8',
      Connection: 'close',
    };
    const common = { host: options.address, port: options.port, path: options.path, method: 'GET', headers, agent: false as const };
    const request: ClientRequest =
      options.scheme === 'https'
        ? httpsRequest({
            ...common,
            // Appliances (Proxmox VE, DSM, TrueNAS) ship self-signed certificates: identification
            // reads public pages only and sends nothing secret, so the certificate is not checked.
            rejectUnauthorized: false,
            servername: isIP(hostName) ? undefined : hostName,
          })
        : httpRequest(common);

    let settled = false;
    let bytesReceived = 0;
    let firstByte: number | undefined;
    const chunks: Buffer[] = [];
    let kept = 0;
    let response: IncomingMessage | null = null;

    const finish = (result: PeekResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      request.destroy();
      resolve(result);
    };
    const finishWithBody = (truncated: boolean): void => {
      if (!response) return;
      finish({
        kind: 'response',
        status: response.statusCode ?? 0,
        headers: flattenHeaders(response),
        body: Buffer.concat(chunks).toString('utf8'),
        truncated,
      });
    };
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(deadline);
      request.destroy();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const connectTimer = setTimeout(() => finish({ kind: 'no-answer', reason: `no TCP connection within ${options.connectTimeoutMs} ms` }), options.connectTimeoutMs);
    const deadline = setTimeout(() => {
      if (response) finishWithBody(true);
      else finish({ kind: 'no-answer', reason: `no HTTP answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);

    request.on('socket', (socket: Socket) => {
      socket.once('connect', () => clearTimeout(connectTimer));
      // The raw bytes of a plain socket: a TLS port answers a plain request with a TLS alert.
      if (options.scheme === 'http') {
        socket.on('data', (chunk: Buffer) => {
          if (firstByte === undefined) firstByte = chunk[0];
          bytesReceived += chunk.length;
        });
      }
    });
    request.on('response', (message: IncomingMessage) => {
      response = message;
      message.on('data', (chunk: Buffer) => {
        const room = options.maxBodyBytes - kept;
        if (room > 0) {
          const slice = chunk.length > room ? chunk.subarray(0, room) : chunk;
          chunks.push(slice);
          kept += slice.length;
        }
        if (kept >= options.maxBodyBytes) finishWithBody(true);
      });
      message.on('end', () => finishWithBody(false));
      message.on('error', () => finishWithBody(true));
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (response) return finishWithBody(true);
      if (options.scheme === 'http' && (isTlsRecordByte(firstByte) || (bytesReceived === 0 && (error.code === 'ECONNRESET' || /socket hang up/.test(error.message))))) {
        return finish({ kind: 'wants-tls' });
      }
      if (options.scheme === 'https' && (PLAIN_ON_TLS.test(error.message) || error.code === 'EPROTO')) {
        return finish({ kind: 'wants-plain' });
      }
      finish({ kind: 'no-answer', reason: describeError(error) });
    });
    request.end();
  });
}

function describeError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'the port refused the connection';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the device cannot be reached';
    case 'ECONNRESET':
      return 'the connection was reset';
    default:
      return error.code?.startsWith('HPE_') ? 'it answered, but not in HTTP' : error.message;
  }
}
