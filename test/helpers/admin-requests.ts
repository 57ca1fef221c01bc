// Requests to the admin port with headers fetch() will not let a caller set (Host, Origin,
// Sec-Fetch-Site), the way a browser on a rebound name or a page on another site sends them.
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface AdminAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface AdminRequest {
  /** Where to connect: an address (the Host header is separate). */
  address: string;
  port: number;
  method?: string;
  path?: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  /** Speak TLS, trusting this CA (PEM); SNI is left out, as for an address. */
  ca?: string;
}

/** One request on its own connection; the answer with its whole body. */
export function adminRequest(options: AdminRequest): Promise<AdminAnswer> {
  const send = options.ca ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      {
        host: options.address,
        port: options.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { connection: 'close', ...options.headers },
        agent: false,
        ...(options.ca ? { ca: options.ca, servername: '' } : {}),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (text: string) => (body += text));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
        response.on('error', reject);
      },
    );
    request.setTimeout(10_000, () => request.destroy(new Error(`no answer to ${options.method ?? 'GET'} ${options.path ?? '/'} in 10 s`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The ApiErrorBody of an answer, checked to be JSON of that shape. */
export function errorBody(answer: AdminAnswer): { code: string; message: string } {
  if (!/^application\/json/.test(String(answer.headers['content-type']))) {
    throw new Error(`expected a JSON error, got ${answer.headers['content-type']}: ${answer.body.slice(0, 200)}`);
  }
  const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
  if (typeof parsed.error?.code !== 'string' || typeof parsed.error.message !== 'string') throw new Error(`not an ApiErrorBody: ${answer.body}`);
  return parsed.error as { code: string; message: string };
}
