// A plain TCP stream's connections, once admitted (access passed, PROXY header in read): connect to
// the stream's upstreams in order, each within `connectTimeoutMs` (the next one on failure), send a
// PROXY header first when the stream asks, then splice both ways with the idle timeout. One access-
// log entry per connection, at its close: status 0, or 502 when no upstream could be reached. The
// client is only ever closed on failure: it never learns which upstream was tried, nor its address.
import { connect, type Socket } from 'node:net';
import type { AccessLogEntry } from '../../../shared/status.js';
import { effectiveIdleMs } from '../../../shared/streams.js';
import { formatProxyHeader } from '../net/proxy-protocol.js';
import { seconds } from '../proxy/errors.js';
import { connectionError } from '../upstreams/active-check.js';
import { splice, type Splice, type SpliceEnd } from './splice.js';
import type { ConnectionHandler, StreamClient, StreamRuntime, UpstreamTarget } from './stream-types.js';

/** The log's error code for a connect failure, as the HTTP side names the same failures. */
export function connectFailureCode(error: unknown): string {
  switch ((error as { code?: unknown } | null)?.code) {
    case 'ECONNREFUSED':
      return 'upstream_refused';
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'upstream_connect_timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'upstream_dns';
    default:
      return 'upstream_unreachable';
  }
}

const END_WORDS: Record<SpliceEnd, string | null> = {
  done: null,
  idle: 'idle_timeout',
  client_error: 'client_reset',
  upstream_error: 'upstream_reset',
  cut: 'stream_closed',
};

/** Base of a stream connection's log entry. */
export function streamLogEntry(runtime: StreamRuntime, method: string, client: { address: string }, listenPort: number, started: { time: string; at: number }): AccessLogEntry {
  return {
    time: started.time,
    client: client.address,
    host: runtime.stream.title,
    method,
    path: `:${listenPort}`,
    status: 0,
    bytes: 0,
    durationMs: Math.round(performance.now() - started.at),
    routeId: null,
    upstream: null,
    error: null,
    detail: null,
    rule: null,
    user: null,
    streamId: runtime.stream.id,
  };
}

export interface DialResult {
  socket: Socket;
  target: UpstreamTarget;
}

/**
 * Connects to `targets` in order, each within `timeoutMs`; reports each outcome to the runtime
 * (passive health). Resolves with the first that connected, or rejects with the last failure and a
 * sentence naming every attempt. `abort()` stops it (the client left).
 */
export function dialInOrder(runtime: StreamRuntime, targets: readonly UpstreamTarget[], timeoutMs: number): { done: Promise<DialResult>; abort(): void } {
  let current: Socket | null = null;
  let aborted = false;
  let timer: NodeJS.Timeout | null = null;
  let rejectNow: ((error: Error) => void) | null = null;
  const done = new Promise<DialResult>((resolve, reject) => {
    rejectNow = reject;
    const failures: string[] = [];
    let lastError: unknown = null;
    const attempt = (index: number) => {
      if (aborted) return;
      const target = targets[index];
      if (!target) {
        const error = new Error(`No upstream could be reached: ${failures.join('; ')}.`) as Error & { cause?: unknown; code?: string };
        error.code = connectFailureCode(lastError);
        return reject(error);
      }
      const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true });
      current = socket;
      const fail = (error: unknown) => {
        if (timer) clearTimeout(timer);
        socket.removeAllListeners('connect');
        socket.on('error', () => {});
        socket.destroy();
        if (aborted) return;
        lastError = error;
        const words = connectionError((error as { code?: string }).code === 'CONNECT_TIMEOUT' ? { code: 'CHECK_TIMEOUT' } : error, timeoutMs);
        failures.push(`${target.address} ${words}`);
        runtime.reportConnect(target.address, false, words);
        attempt(index + 1);
      };
      timer = setTimeout(() => fail({ code: 'CONNECT_TIMEOUT' }), timeoutMs);
      socket.once('error', fail);
      socket.once('connect', () => {
        if (timer) clearTimeout(timer);
        socket.removeListener('error', fail);
        current = null;
        runtime.reportConnect(target.address, true);
        resolve({ socket, target });
      });
    };
    attempt(0);
  });
  return {
    done,
    abort() {
      if (aborted) return;
      aborted = true;
      if (timer) clearTimeout(timer);
      current?.destroy();
      rejectNow?.(Object.assign(new Error('the client left while connecting'), { code: 'client_gone' }));
    },
  };
}

export function createTcpHandler(runtime: StreamRuntime): ConnectionHandler {
  /** Everything to cut on close: connections being dialed and spliced ones. */
  const live = new Set<() => void>();
  let closed = false;

  return {
    handle(socket: Socket, client: StreamClient): void {
      if (closed) return void socket.destroy();
      const stream = runtime.stream;
      const counters = runtime.counters;
      const started = { time: new Date().toISOString(), at: performance.now() };
      counters.open++;
      counters.total++;
      socket.on('error', () => {});
      let finished = false;
      const finish = (entry: AccessLogEntry) => {
        if (finished) return;
        finished = true;
        counters.open--;
        entry.durationMs = Math.round(performance.now() - started.at);
        runtime.log(entry);
      };

      const dial = dialInOrder(runtime, runtime.targets(client.localPort), stream.connectTimeoutMs);
      const abortDial = () => dial.abort();
      live.add(abortDial);
      // The client left (reset) while an upstream was being dialed: stop dialing.
      const onEarlyClose = () => dial.abort();
      socket.once('close', onEarlyClose);

      dial.done.then(
        ({ socket: upstream, target }) => {
          live.delete(abortDial);
          socket.removeListener('close', onEarlyClose);
          if (socket.destroyed || closed) {
            upstream.destroy();
            const entry = streamLogEntry(runtime, 'TCP', client, client.localPort, started);
            finish({ ...entry, upstream: target.address, error: closed ? 'stream_closed' : 'client_gone' });
            return;
          }
          if (stream.proxyProtocol !== 'off') {
            upstream.write(formatProxyHeader(stream.proxyProtocol === 'v1' ? 1 : 2, { address: client.address, port: client.port }, { address: client.localAddress, port: client.localPort }));
          }
          let joined: Splice | null = null;
          const cut = () => joined?.cut();
          live.add(cut);
          joined = splice(socket, upstream, {
            idleMs: effectiveIdleMs(stream),
            onClientBytes: (bytes) => (counters.bytesIn += bytes),
            onUpstreamBytes: (bytes) => (counters.bytesOut += bytes),
            onClose: (reason, totals) => {
              live.delete(cut);
              const entry = streamLogEntry(runtime, 'TCP', client, client.localPort, started);
              const error = END_WORDS[reason];
              finish({
                ...entry,
                bytes: totals.fromUpstream,
                upstream: target.address,
                error,
                detail: reason === 'idle' ? `closed after ${seconds(effectiveIdleMs(stream))} without a byte either way` : null,
              });
            },
          });
        },
        (error: Error & { code?: string }) => {
          live.delete(abortDial);
          socket.removeListener('close', onEarlyClose);
          socket.destroy();
          const entry = streamLogEntry(runtime, 'TCP', client, client.localPort, started);
          if (error.code === 'client_gone') return finish({ ...entry, error: closed ? 'stream_closed' : 'client_gone' });
          counters.failed++;
          finish({ ...entry, status: 502, error: error.code ?? 'upstream_unreachable', detail: error.message });
        },
      );
    },

    async close(): Promise<void> {
      closed = true;
      for (const cut of [...live]) cut();
      live.clear();
    },
  };
}
