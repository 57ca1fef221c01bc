// Two connections joined byte for byte: what a TCP stream, an FTP data connection and a passed-through
// TLS connection all do once both ends are open. Each direction is piped with backpressure (a slow
// reader pauses the writer's source, so nothing is buffered without bound); an end (FIN) from one side
// is passed on as an end to the other, and the other direction keeps flowing until it ends too
// (half-close: `ssh host cmd < file`, FTP uploads); an error or reset on either side destroys both.
// A connection silent both ways for `idleMs` is closed.
//
// Speed (issue 16: a TCP stream at least 0.8× HAProxy's throughput): a plain Node socket reads into a
// fresh 64 KiB buffer per read and pushes it through the Readable machinery, which costs about twice
// HAProxy's CPU per byte. A plain TCP socket is therefore read into buffers of our own (Node's
// `onread` user buffers; see `readInto`): 16 KiB while the traffic is light, 4× larger after each
// read that fills its buffer (up to 1 MiB), each reused as soon as the other side's write of it completed, so bulk data moves
// in a few large syscalls with no allocation per read. Backpressure is the same as for 'data': a
// write that the other side did not take at once pauses the reader until 'drain', so a slow reader
// holds at most a few buffers per direction. Sockets it cannot take over (TLS, bytes already put
// back with unshift, someone else listening for 'data') use the 'data' events as before.
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

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

  const fromClient = (bytes: number) => {
    totals.fromClient += bytes;
    lastActivity = performance.now();
    options.onClientBytes?.(bytes);
  };
  const fromUpstream = (bytes: number) => {
    totals.fromUpstream += bytes;
    lastActivity = performance.now();
    options.onUpstreamBytes?.(bytes);
  };
  if (!readInto(client, upstream, fromClient)) {
    client.on('data', (chunk: Buffer) => {
      fromClient(chunk.length);
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
  }
  if (!readInto(upstream, client, fromUpstream)) {
    upstream.on('data', (chunk: Buffer) => {
      fromUpstream(chunk.length);
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
  }
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

/** A read buffer while the traffic is light (each idle direction holds one). */
export const SMALL_READ = 16 * 1024;
/** The largest read buffer: a read that fills its buffer gets one 4× larger next, up to this. */
export const LARGE_READ = 1024 * 1024;
/** Buffers of each size kept for reuse across connections (beyond that they are left to the GC). */
const KEPT = 4;
const kept = new Map<number, Buffer[]>();

function takeBuffer(size: number): Buffer {
  return kept.get(size)?.pop() ?? Buffer.allocUnsafe(size);
}

function giveBuffer(buffer: Buffer): void {
  if (buffer.length === SMALL_READ) return;
  let list = kept.get(buffer.length);
  if (!list) kept.set(buffer.length, (list = []));
  if (list.length < KEPT) list.push(buffer);
}

/** The socket's own fields for `onread` (lib/net.js: kBuffer, kBufferCb, kBufferGen), found once. */
interface UserBufferSlots {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}
let slots: UserBufferSlots | null | undefined;

function slotsOf(socket: Socket): UserBufferSlots | null {
  if (slots === undefined) {
    const named = new Map(Object.getOwnPropertySymbols(socket).map((symbol) => [symbol.description, symbol]));
    const buffer = named.get('kBuffer');
    const callback = named.get('kBufferCb');
    const generator = named.get('kBufferGen');
    slots = buffer && callback && generator ? { buffer, callback, generator } : null;
  }
  return slots;
}

type Fields = Socket & Record<symbol, unknown> & { _handle?: { useUserBuffer?: (buffer: Uint8Array) => void } | null };

/**
 * Whether `socket` can be read into our own buffers now: a plain (not TLS) connected TCP socket whose
 * readable side is untouched (nothing buffered or put back, no 'data' listener, not ended).
 */
export function canReadInto(socket: Duplex): socket is Socket {
  if (!(socket instanceof Socket) || socket instanceof TLSSocket) return false;
  const fields = socket as Fields;
  const found = slotsOf(socket);
  return (
    found !== null &&
    typeof fields._handle?.useUserBuffer === 'function' &&
    fields[found.buffer] === null &&
    !socket.connecting &&
    !socket.destroyed &&
    !socket.readableEnded &&
    socket.readableLength === 0 &&
    socket.listenerCount('data') === 0
  );
}

/**
 * Reads `from` into recycled buffers and writes each read to `to` (see the top of the file); false
 * when `from` cannot be taken over (the caller uses 'data' events). An end still arrives as 'end'.
 */
function readInto(from: Duplex, to: Duplex, counted: (bytes: number) => void): boolean {
  if (!canReadInto(from)) return false;
  const found = slots as UserBufferSlots;
  /** The buffer the next read goes into. */
  let next: Buffer = Buffer.allocUnsafe(SMALL_READ);
  /** Written to `to` but still queued there (its bytes are referenced until the write completes). */
  let queued: Buffer[] = [];
  const release = () => {
    for (const buffer of queued) giveBuffer(buffer);
    queued = [];
  };
  const onDrain = () => {
    // Everything written so far has gone: the queued buffers are free again.
    release();
    from.resume();
  };
  const onRead = (bytes: number, buffer: Buffer): void => {
    counted(bytes);
    const ok = to.write(bytes === buffer.length ? buffer : buffer.subarray(0, bytes));
    if (to.writableLength === 0) release();
    else queued.push(buffer);
    // The next read: a larger buffer after a full read, a small one after a light one; the same one
    // when it is free and the right size.
    const size = bytes === buffer.length ? Math.min(buffer.length * 4, LARGE_READ) : bytes < SMALL_READ ? SMALL_READ : buffer.length;
    const busy = queued.includes(buffer);
    if (busy || buffer.length !== size) {
      if (!busy) giveBuffer(buffer);
      next = takeBuffer(size);
    }
    if (!ok) {
      from.pause();
      to.once('drain', onDrain);
    }
  };
  const fields = from as Fields;
  fields[found.buffer] = next;
  fields[found.generator] = () => next;
  fields[found.callback] = onRead;
  fields._handle?.useUserBuffer?.(next);
  from.once('close', () => {
    // The handle is closed: nothing reads into `next` any more.
    if (!queued.includes(next)) giveBuffer(next);
  });
  return true;
}
