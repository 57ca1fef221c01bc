// undici (7.x, client-h1.js onHeadersComplete) destroys the connection when a response starts with
// `100 Continue`: it never sends `Expect: 100-continue`, so it takes one as a broken server, and the
// request became a 502. RFC 9110 §15.2 says a client must parse and skip an unexpected 1xx. Some
// services send one anyway (they answer an Expect the proxy stripped, or always). So the connections
// undici opens are filtered before its parser: a `100` status head at the start of a response is
// dropped, and everything else passes through untouched. Other 1xx (103 Early Hints) undici skips
// itself.
//
// undici writes each request head as one string starting with the method (client-h1.js writeH1), and
// with one request at a time per connection (pipelining 1) the next bytes received start its
// response. Body chunks are Buffers, or chunk-size strings starting with CRLF, so they never mark a
// start. The bytes are taken where the socket pushes them into its read buffer (net.Socket#push, fed
// by Node's stream_base_commons onStreamRead for TCP and TLS alike), which undici then reads.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { buildConnector as BuildConnector } from 'undici';
import buildConnector from 'undici/lib/core/connect.js';

/** A 100 head longer than this is not a 100 we skip: the parser gets it (and refuses it). */
const MAX_CONTINUE_HEAD = 8192;
const CONTINUE_STARTS = ['HTTP/1.1 100 ', 'HTTP/1.1 100\r', 'HTTP/1.0 100 ', 'HTTP/1.0 100\r'];
const START_LENGTH = 13;

/** true: `head` starts a 100 head; false: it cannot; null: too short to tell yet. */
function startsContinue(data: Buffer): boolean | null {
  // Nearly every response is not a 100: its status digits (bytes 9–11) say so without a string.
  if (data.length >= START_LENGTH && (data[9] !== 0x31 || data[10] !== 0x30 || data[11] !== 0x30)) return false;
  const head = data.toString('latin1', 0, START_LENGTH);
  if (head.length >= START_LENGTH) return CONTINUE_STARTS.includes(head);
  return CONTINUE_STARTS.some((start) => start.startsWith(head)) ? null : false;
}

/** Filters `socket` so a 100 Continue at the start of a response never reaches undici's parser. */
export function skipContinue(socket: Socket | TLSSocket): void {
  const push = socket.push.bind(socket);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let atStart = false;
  let held: Buffer | null = null;
  socket.write = ((...args: unknown[]) => {
    const chunk = args[0];
    if (typeof chunk === 'string' && chunk.length > 0 && chunk.charCodeAt(0) !== 13) atStart = true;
    return write(...args);
  }) as Socket['write'];
  socket.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk === null) {
      if (held !== null) push(held);
      held = null;
      return push(null);
    }
    if (!atStart || !Buffer.isBuffer(chunk)) return push(chunk, encoding);
    let data: Buffer = held === null ? chunk : Buffer.concat([held, chunk]);
    held = null;
    for (;;) {
      const starts = startsContinue(data);
      if (starts === null) {
        held = data;
        return true;
      }
      if (!starts) {
        atStart = false;
        return push(data);
      }
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) {
        if (data.length <= MAX_CONTINUE_HEAD) {
          held = data;
          return true;
        }
        atStart = false;
        return push(data);
      }
      data = data.subarray(end + 4);
      if (data.length === 0) return true;
    }
  };
}

/** undici's own connector (same options), with every connection it opens filtered by skipContinue. */
export function continueSkippingConnector(options: BuildConnector.BuildOptions): BuildConnector.connector {
  const connect = buildConnector(options);
  return (connectOptions, callback) =>
    connect(connectOptions, (...result: Parameters<BuildConnector.Callback>) => {
      const [error, socket] = result as [Error | null, Socket | TLSSocket | null];
      if (error === null && socket) skipContinue(socket);
      callback(...result);
    });
}
