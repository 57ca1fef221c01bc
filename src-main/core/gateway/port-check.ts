// "Can the proxy have this port?", answered by binding it for a moment: the only test that sees
// everything the OS will say at the real start (another program, a low port without permission, an
// address this machine does not have). Used by the first-run guide and the Settings page before a
// port is saved.
import { createServer } from 'node:net';
import type { ListenerInfo, PortCheck } from '../../../shared/model.js';
import { listen, ListenError } from '../net/listen.js';

export interface PortCheckRequest {
  httpPort: number;
  httpsPort?: number;
  address: string;
  /** The proxy's own listener while it runs: its port counts as available (a move frees it first). */
  ownListener: ListenerInfo | null;
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
  const { address, ownListener } = request;
  const server = createServer();
  try {
    await listen(server, role === 'http' ? 'proxy' : 'proxy (HTTPS)', address, port);
    return { role, port, address, available: true, problem: null };
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    // Our own running proxy holds it (on this address, or one that overlaps): a restart on the new
    // settings stops it before binding, so the port is the user's to use.
    if (error.errno === 'EADDRINUSE' && ownListener?.port === port) return { role, port, address, available: true, problem: null };
    return { role, port, address, available: false, problem: error.problem };
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
