// "Can the proxy have this port?", answered by binding it for a moment: the only test that sees
// everything the OS will say at the real start (another program, a low port without permission, an
// address this machine does not have). Used by the first-run guide and the Settings page before a
// port is saved.
import { createServer, isIPv4 } from 'node:net';
import type { ListenerInfo, PortCheck } from '../../../shared/status.js';
import { listen, ListenError } from '../net/listen.js';

export interface PortCheckRequest {
  httpPort: number;
  httpsPort?: number;
  address: string;
  /**
   * The proxy's own listeners (HTTP and HTTPS) while it runs: their ports count as available, for
   * either role (a move stops the proxy before it binds again, so swapping the two ports works too).
   */
  ownListeners: readonly ListenerInfo[];
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

async function checkPort(role: PortCheck['role'], port: number, request: PortCheckRequest): Promise<PortCheck> {
  const { address } = request;
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
