// "Can the proxy have this port?", answered by binding it for a moment: the only test that sees
// everything the OS will say at the real start (another program, a low port without permission, an
// address this machine does not have). Used by the first-run guide and the Settings page before a
// port is saved, and for every enabled stream's ports (TCP, UDP, an FTP stream's passive range).
import { createSocket } from 'node:dgram';
import { createServer, isIPv4, isIPv6 } from 'node:net';
import { listenPorts, portText, transportOf, type Stream } from '../../../shared/streams.js';
import type { ListenerInfo, PortCheck, Problem } from '../../../shared/status.js';
import { explainListenError, listen, ListenError, udpInUseFix } from '../net/listen.js';

export interface PortCheckRequest {
  httpPort: number;
  httpsPort?: number;
  address: string;
  /**
   * The proxy's own listeners (HTTP and HTTPS) while it runs: their ports count as available, for
   * either role (a move stops the proxy before it binds again, so swapping the two ports works too).
   */
  ownListeners: readonly ListenerInfo[];
  /** Enabled saved streams: the HTTP/HTTPS ports are refused when one of them listens on that TCP port. Default: none. */
  streams?: readonly Stream[];
}

/** One PortCheck per port asked about, HTTP first; checked one after the other so they cannot collide. */
export async function checkPorts(request: PortCheckRequest): Promise<PortCheck[]> {
  const checks: PortCheck[] = [await checkPort('http', request.httpPort, request)];
  if (request.httpsPort !== undefined) {
    if (request.httpsPort === request.httpPort && request.httpPort !== 0) {
      checks.push({
        role: 'https',
        port: request.httpsPort,
        address: request.address,
        available: false,
        problem: {
          code: 'port_in_use',
          message: `HTTP and HTTPS cannot share port ${request.httpsPort}.`,
          fix: 'Choose a different port for HTTPS (443 is the usual one).',
        },
      });
    } else {
      checks.push(await checkPort('https', request.httpsPort, request));
    }
  }
  return checks;
}

async function checkPort(role: 'http' | 'https', port: number, request: PortCheckRequest): Promise<PortCheck> {
  const { address } = request;
  const stream = port === 0 ? undefined : request.streams?.find((candidate) => candidate.enabled && transportOf(candidate.protocol) === 'tcp' && listenPorts(candidate).includes(port));
  if (stream) {
    return {
      role,
      port,
      address,
      available: false,
      problem: {
        code: 'port_in_use',
        message: `Port ${port} belongs to the stream "${stream.title}", so the proxy's ${role === 'http' ? 'HTTP' : 'HTTPS'} listener cannot have it.`,
        fix: `Choose another port here, or move the stream "${stream.title}" to another port first.`,
      },
    };
  }
  const ownListener = request.ownListeners.find((listener) => listener.port === port) ?? null;
  const server = createServer();
  try {
    await listen(server, role === 'http' ? 'proxy' : 'proxy (HTTPS)', address, port);
    return { role, port, address, available: true, problem: null };
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    if (error.errno !== 'EADDRINUSE' || ownListener === null) return { role, port, address, available: false, problem: error.problem };
    // Our own running proxy holds it: a restart on the new settings stops it before binding, so the
    // port is the user's to use.
    if (heldByOwnListener(ownListener, address, port)) return { role, port, address, available: true, problem: null, ownProxy: true };
    // Our proxy holds the port on another address that overlaps this one: the refusal may be ours
    // alone, or another program's too, and only stopping the proxy can tell.
    return {
      role,
      port,
      address,
      available: false,
      problem: {
        code: 'port_in_use',
        message: `${address}:${port} overlaps the port this Gatehouse's proxy already listens on (${ownListener.address}:${port}), so it cannot be checked while the proxy runs.`,
        fix: 'Stop the proxy, then check again; or keep the current address.',
      },
    };
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Whether a refusal to bind `address:port` can only come from our own listener. Yes when it listens
 * on exactly that address and port. Also, on Linux, when it listens on the wildcard that covers
 * `address` (0.0.0.0 for an IPv4 address, :: for any): Linux lets nobody bind a specific address on
 * a port a wildcard socket is listening on, so no other program can hold it. Not otherwise: our
 * listener on 127.0.0.1 says nothing about 0.0.0.0 (another program may hold 10.0.0.5 on that port),
 * and macOS and Windows let a specific bind share a port with a wildcard one, so there a refusal of
 * a specific address came from another socket on that same address.
 */
export function heldByOwnListener(own: ListenerInfo | null, address: string, port: number, platform: NodeJS.Platform = process.platform): boolean {
  if (own === null || own.port !== port) return false;
  if (own.address === address) return true;
  if (platform !== 'linux') return false;
  return own.address === '::' || (own.address === '0.0.0.0' && isIPv4(address));
}

// ---------------------------------------------------------------------------------------------
// Streams

export interface StreamPortRequest {
  /** The saved streams; disabled ones listen on nothing and are left out. */
  streams: readonly Stream[];
  /** The address to check (the streams listen on proxy.bindAddress). */
  address: string;
  /**
   * Where this Gatehouse's streams listen now, or null while the proxy is stopped, and whether a
   * stream is listening: its own ports count as available (ownProxy), like the proxy's.
   */
  ownAddress: string | null;
  listening: (stream: Stream) => boolean;
  platform?: NodeJS.Platform;
}

/**
 * One PortCheck per enabled stream (role "stream": its port or range) and per FTP passive range
 * (role "ftp-passive"), after the HTTP ones. Each port of a range is bound for a moment, one after
 * the other; the first that cannot be is the one the problem names.
 */
export async function checkStreamPorts(request: StreamPortRequest): Promise<PortCheck[]> {
  const checks: PortCheck[] = [];
  for (const stream of request.streams) {
    if (!stream.enabled) continue;
    checks.push(await checkStreamListen(stream, request));
    if (stream.ftp) checks.push(await checkPassiveRange(stream, request));
  }
  return checks;
}

type BindResult = { ok: true } | { ok: false; errno: string | undefined; problem: Problem };

/** Binds `port` for a moment with the transport's socket kind. */
async function bindOnce(transport: 'tcp' | 'udp', what: string, address: string, port: number, platform: NodeJS.Platform): Promise<BindResult> {
  if (transport === 'tcp') {
    const server = createServer();
    try {
      await listen(server, what, address, port);
      return { ok: true };
    } catch (error) {
      if (!(error instanceof ListenError)) throw error;
      return { ok: false, errno: error.errno, problem: error.problem };
    } finally {
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return { ok: true };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    const problem = await explainListenError(failure, what, address, port, platform);
    return { ok: false, errno: failure.code, problem: failure.code === 'EADDRINUSE' ? { ...problem, fix: udpInUseFix(port, platform) } : problem };
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }
}

/** Whether a refusal of `port` came from this Gatehouse's own listening stream (see heldByOwnListener). */
function ours(stream: Stream, request: StreamPortRequest, port: number, platform: NodeJS.Platform): boolean {
  return request.ownAddress !== null && request.listening(stream) && heldByOwnListener({ address: request.ownAddress, port }, request.address, port, platform);
}

async function checkStreamListen(stream: Stream, request: StreamPortRequest): Promise<PortCheck> {
  const platform = request.platform ?? process.platform;
  const transport = transportOf(stream.protocol);
  const base = { role: 'stream' as const, streamId: stream.id, transport, port: stream.listenPort, portEnd: stream.listenPortEnd, address: request.address };
  let own = false;
  for (const port of listenPorts(stream)) {
    const result = await bindOnce(transport, `stream "${stream.title}"`, request.address, port, platform);
    if (result.ok) continue;
    if (result.errno === 'EADDRINUSE' && ours(stream, request, port, platform)) {
      own = true;
      continue;
    }
    const problem = stream.listenPortEnd === null ? result.problem : { ...result.problem, message: `${result.problem.message} (port ${port} of its range ${portText(stream.listenPort, stream.listenPortEnd)})` };
    return { ...base, available: false, problem };
  }
  return own ? { ...base, available: true, problem: null, ownProxy: true } : { ...base, available: true, problem: null };
}

/**
 * An FTP stream's passive range: every port must be free (each transfer takes one). While the stream
 * runs, a port in use may be one of its own transfers, so a busy port counts as ours then.
 */
async function checkPassiveRange(stream: Stream, request: StreamPortRequest): Promise<PortCheck> {
  const platform = request.platform ?? process.platform;
  const { passivePortFrom: from, passivePortTo: to } = stream.ftp!;
  const base = { role: 'ftp-passive' as const, streamId: stream.id, transport: 'tcp' as const, port: from, portEnd: to, address: request.address };
  const busy: number[] = [];
  let firstBusy: Problem | null = null;
  let own = false;
  for (let port = from; port <= to; port++) {
    const result = await bindOnce('tcp', `FTP passive range of "${stream.title}"`, request.address, port, platform);
    if (result.ok) continue;
    if (result.errno !== 'EADDRINUSE') return { ...base, available: false, problem: result.problem };
    if (ours(stream, request, port, platform)) {
      own = true;
      continue;
    }
    busy.push(port);
    firstBusy ??= result.problem;
  }
  if (busy.length > 0 && firstBusy) {
    const count = to - from + 1;
    return {
      ...base,
      available: false,
      problem: {
        code: 'port_in_use',
        message: `${busy.length} of the ${count} passive ports of "${stream.title}" (${portText(from, to)}) are in use by another program (${busy.slice(0, 5).join(', ')}${busy.length > 5 ? ', …' : ''}); transfers through them would fail.`,
        fix: `${firstBusy.fix ?? ''} Or choose a passive range nothing else uses.`.trim(),
      },
    };
  }
  return own ? { ...base, available: true, problem: null, ownProxy: true } : { ...base, available: true, problem: null };
}
