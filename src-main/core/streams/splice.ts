// Two connections joined byte for byte: what a TCP stream, an FTP data connection and a passed-through
// TLS connection all do once both ends are open. Each direction is piped with backpressure (a slow
// reader pauses the writer's source, so nothing is buffered without bound); an end (FIN) from one side
// is passed on as an end to the other, and the other direction keeps flowing until it ends too
// (half-close: `ssh host cmd < file`, FTP uploads); an error or reset on either side destroys both.
// A connection silent both ways for `idleMs` is closed.
import type { Duplex } from 'node:stream';

export interface SpliceOptions {
  /** Closed after this long without a byte either way; 0 never. */
  idleMs: number;
  /** Bytes from the client towards the upstream, as they pass (for the stream's counters). */
  onClientBytes?(bytes: number): void;
  /** Bytes from the upstream towards the client. */
  onUpstreamBytes?(bytes: number): void;
  /** Once, when both are closed: why ("done", "idle", "client_error", "upstream_error", "cut"). */
  onClose?(reason: SpliceEnd, totals: { fromClient: number; fromUpstream: number }): void;
}

export type SpliceEnd = 'done' | 'idle' | 'client_error' | 'upstream_error' | 'cut';

export interface Splice {
  /** Destroys both ends now (stream removed, proxy stopped). */
  cut(): void;
  readonly totals: { fromClient: number; fromUpstream: number };
}

/**
 * Joins `client` and `upstream`. Bytes either side already buffered (a peeked ClientHello put back
 * with unshift, a PROXY header written first) flow as usual. Both must be open and not paused by
 * anyone else; splice owns them from here.
 */
export function splice(client: Duplex, upstream: Duplex, options: SpliceOptions): Splice {
  const totals = { fromClient: 0, fromUpstream: 0 };
  let ended: SpliceEnd | null = null;
  let closedCount = 0;
  let lastActivity = performance.now();
  let timer: NodeJS.Timeout | null = null;

  const finish = (reason: SpliceEnd) => {
    if (ended === null) ended = reason;
  };
  const onClosed = () => {
    if (++closedCount < 2) return;
    if (timer) clearTimeout(timer);
    options.onClose?.(ended ?? 'done', totals);
  };
  const destroyBoth = (reason: SpliceEnd) => {
    finish(reason);
    client.destroy();
    upstream.destroy();
  };

  client.on('data', (chunk: Buffer) => {
    totals.fromClient += chunk.length;
    lastActivity = performance.now();
    options.onClientBytes?.(chunk.length);
    if (!upstream.write(chunk)) {
      client.pause();
      upstream.once('drain', () => client.resume());
    }
  });
  upstream.on('data', (chunk: Buffer) => {
    totals.fromUpstream += chunk.length;
    lastActivity = performance.now();
    options.onUpstreamBytes?.(chunk.length);
    if (!client.write(chunk)) {
      upstream.pause();
      client.once('drain', () => upstream.resume());
    }
  });
  // Half-close: an end from one side becomes an end towards the other. Sockets must allow half-open
  // (net.createServer/connect with allowHalfOpen: true), or the first end would close both ways.
  client.on('end', () => upstream.end());
  upstream.on('end', () => client.end());
  client.on('error', () => destroyBoth('client_error'));
  upstream.on('error', () => destroyBoth('upstream_error'));
  // A side that closes without ending its write side (reset, destroy) takes the other with it.
  client.on('close', () => {
    if (!upstream.destroyed && !upstream.writableFinished) upstream.destroy();
    onClosed();
  });
  upstream.on('close', () => {
    if (!client.destroyed && !client.writableFinished) client.destroy();
    onClosed();
  });
  // Both directions done: sockets close by themselves (autoDestroy) once each has read its end and
  // finished writing the other's, so a last chunk still queued is delivered before the close.
  if (options.idleMs > 0) {
    const check = () => {
      const quiet = performance.now() - lastActivity;
      if (quiet >= options.idleMs) return destroyBoth('idle');
      timer = setTimeout(check, options.idleMs - quiet + 5);
      timer.unref();
    };
    timer = setTimeout(check, options.idleMs);
    timer.unref();
  }
  client.resume();
  upstream.resume();

  return { cut: () => destroyBoth('cut'), totals };
}
