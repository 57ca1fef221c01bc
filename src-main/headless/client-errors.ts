// Requests Node refuses before the admin server sees them (a head too large, bytes that are not
// HTTP, a head that never finished): Node's own answer is a bare status line, so a client that reads
// every other failure as ApiErrorBody would get nothing to show. These get the same JSON body.
import type { Duplex } from 'node:stream';
import type { ApiErrorBody } from '../../shared/api.js';

interface EarlyAnswer {
  status: number;
  reason: string;
  message: string;
}

function earlyAnswer(code: string | undefined): EarlyAnswer {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', message: 'The request headers are too large (cookies, most likely); clear this site\'s cookies or send fewer headers.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', message: 'The request took too long to arrive, so the admin stopped waiting for it. Send it again.' };
    default:
      return { status: 400, reason: 'Bad Request', message: 'The request is not valid HTTP/1.1, so the admin could not read it.' };
  }
}

/** The raw response for a request Node's parser refused with `error`. */
export function clientErrorResponse(error: NodeJS.ErrnoException): string {
  const answer = earlyAnswer(error.code);
  const body: ApiErrorBody = { error: { code: 'invalid_input', message: answer.message } };
  const text = JSON.stringify(body);
  return (
    `HTTP/1.1 ${answer.status} ${answer.reason}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(text)}\r\n` +
    'cache-control: no-store\r\n' +
    'x-content-type-options: nosniff\r\n' +
    'connection: close\r\n\r\n' +
    text
  );
}

/** For the server's 'clientError' event: answers with JSON when the socket can still take it. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset connection, or one with a response already on its way, gets nothing more.
  if (error.code === 'ECONNRESET' || !socket.writable || (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(error));
}
