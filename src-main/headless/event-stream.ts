// GET /api/events: the gateway's events as Server-Sent Events. Each stream starts with the current
// status, then carries every event in order (`event: <type>` + one `data:` line of JSON), with a
// comment line every 15 s so proxies and browsers keep an idle stream open.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiEvent } from '../../shared/api.js';
import type { Gateway } from '../core/gateway.js';

/** A reader this far behind (a stalled tab under heavy traffic) is cut off; it reconnects and resyncs. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function formatEvent(event: ApiEvent): string {
  // JSON.stringify never emits a raw newline, so the data fits on one `data:` line.
  return `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export class EventStreams {
  /** Each open stream with the check of the sign-in that opened it. */
  readonly #open = new Map<ServerResponse, () => boolean>();

  constructor(
    private readonly gateway: Pick<Gateway, 'handlers' | 'subscribe'>,
    private readonly pingMs = 15_000,
  ) {}

  get count(): number {
    return this.#open.size;
  }

  /**
   * `stillValid` is asked before every event and ping and on `recheck`: a stream must not outlive
   * the session or token that opened it (sign-out, expiry, password change, token rotation).
   */
  async open(request: IncomingMessage, response: ServerResponse, stillValid: () => boolean = () => true): Promise<void> {
    // The status is computed now and events are held until it is written, so nothing is missed or reordered.
    const firstStatus = this.gateway.handlers.getStatus({});
    let backlog: ApiEvent[] | null = [];
    const send = (event: ApiEvent) => {
      // Ended by closeAll, or gone: an event that comes after (the proxy stopping on shutdown) is dropped.
      if (response.destroyed || response.writableEnded) return;
      if (!stillValid()) {
        response.end();
        return;
      }
      response.write(formatEvent(event));
      if (response.writableLength > MAX_BUFFERED_BYTES) response.destroy();
    };
    const unsubscribe = this.gateway.subscribe((event) => (backlog ? backlog.push(event) : send(event)));
    const ping = setInterval(() => (stillValid() ? response.write(': ping\n\n') : response.end()), this.pingMs);
    ping.unref();
    const cleanup = () => {
      clearInterval(ping);
      unsubscribe();
      this.#open.delete(response);
    };
    response.once('close', cleanup);
    request.socket.setKeepAlive(true, this.pingMs);
    this.#open.set(response, stillValid);

    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    try {
      send({ type: 'status', data: await firstStatus });
    } finally {
      const held = backlog;
      backlog = null;
      for (const event of held) send(event);
    }
  }

  /** Ends every stream whose sign-in no longer holds (called when sessions or the token change). */
  recheck(): void {
    for (const [response, stillValid] of this.#open) if (!stillValid()) response.end();
  }

  /** Ends every stream, e.g. when the server shuts down (clients see the stream end and may reconnect). */
  closeAll(): void {
    for (const response of this.#open.keys()) response.end();
    this.#open.clear();
  }
}
