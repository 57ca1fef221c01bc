// Binding a listening socket, and explaining a failure in words a home-lab user can act on: a port
// below 1024 needs a permission that differs per OS, and a port in use needs the other program found.
import type { Server } from 'node:net';
import type { ListenerInfo, Problem } from '../../../shared/status.js';

/** A listener could not bind. `problem` says why and how to fix it on this OS. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly problem: Problem,
    readonly errno: string | undefined,
  ) {
    super(problem.message);
  }
}

/** Reads /proc's unprivileged-port floor on Linux; 1024 (the kernel default) when unknown. */
async function unprivilegedPortStart(): Promise<number> {
  try {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8');
    const value = Number.parseInt(text, 10);
    return Number.isFinite(value) ? value : 1024;
  } catch {
    return 1024;
  }
}

/** How to let Gatehouse bind a port below 1024 on this platform. */
export async function privilegedPortFix(port: number, platform: NodeJS.Platform = process.platform): Promise<string> {
  switch (platform) {
    case 'linux': {
      const floor = await unprivilegedPortStart();
      const sysctl =
        `sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${Math.min(port, 80)} ` +
        `(add net.ipv4.ip_unprivileged_port_start=${Math.min(port, 80)} to /etc/sysctl.d/50-gatehouse.conf to keep it after a reboot)`;
      // Giving the Electron binary a capability makes Linux ignore its bundled library path (it
      // then fails to start), and an AppImage's path changes every run: the desktop app gets the
      // sysctl, or the .deb, which grants the capability safely at install.
      if (process.versions.electron) {
        return `Ports below ${floor} need a permission on Linux. Lower the limit: ${sysctl}. Or install Gatehouse's .deb package, which grants it, or choose a port of ${floor} or above.`;
      }
      return (
        `Ports below ${floor} need a permission on Linux. Either lower the limit: ${sysctl} — or grant it to this Node.js ` +
        `(every script run with it gets it too): sudo setcap cap_net_bind_service=+ep "${process.execPath}". ` +
        `Or choose a port of ${floor} or above.`
      );
    }
    case 'darwin':
      return `macOS may refuse ports below 1024 when Gatehouse listens on one address only; listen on 0.0.0.0, or choose a port of 1024 or above.`;
    case 'win32':
      return `Windows refused port ${port}: another program or a reserved port range may hold it; check "netsh interface ipv4 show excludedportrange protocol=tcp", or choose another port.`;
    default:
      return `Run Gatehouse with permission to bind ports below 1024, or choose a port of 1024 or above.`;
  }
}

/** The fix for a UDP port in use: found with the UDP spellings of the same commands. */
export function udpInUseFix(port: number, platform: NodeJS.Platform): string {
  switch (platform) {
    case 'linux':
      return `Find the program holding it with: sudo ss -lunp 'sport = :${port}' — stop it (often a DNS server such as systemd-resolved or dnsmasq for port 53), or choose another port.`;
    case 'darwin':
      return `Find the program holding it with: sudo lsof -nP -iUDP:${port} — stop it, or choose another port.`;
    case 'win32':
      return `Find the program holding it with: netstat -ano -p udp | findstr :${port} — stop it, or choose another port.`;
    default:
      return `Stop the program that uses UDP port ${port}, or choose another port.`;
  }
}

function inUseFix(port: number, platform: NodeJS.Platform): string {
  switch (platform) {
    case 'linux':
      return `Find the program holding it with: sudo ss -ltnp 'sport = :${port}' — stop it (often another web server such as nginx, Apache or a container), or choose another port.`;
    case 'darwin':
      return `Find the program holding it with: sudo lsof -nP -iTCP:${port} -sTCP:LISTEN — stop it, or choose another port.`;
    case 'win32':
      return `Find the program holding it with: netstat -ano | findstr :${port} — stop it (IIS and Skype are common), or choose another port.`;
    default:
      return `Stop the program that uses port ${port}, or choose another port.`;
  }
}

/** Turns a bind error into a Problem that names the listener, the address and the fix. */
export async function explainListenError(
  error: NodeJS.ErrnoException,
  what: string,
  address: string,
  port: number,
  platform: NodeJS.Platform = process.platform,
): Promise<Problem> {
  const where = `${address}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return { code: 'port_in_use', message: `The ${what} cannot listen on ${where}: another program is already using port ${port}.`, fix: inUseFix(port, platform) };
    case 'EACCES':
    case 'EPERM':
      return { code: 'port_permission', message: `The ${what} is not allowed to listen on ${where}.`, fix: await privilegedPortFix(port, platform) };
    case 'EADDRNOTAVAIL':
      return {
        code: 'address_unavailable',
        message: `The ${what} cannot listen on ${address}: this machine has no such address.`,
        fix: `Choose one of this machine's addresses, or 0.0.0.0 for all of them.`,
      };
    default:
      return {
        code: 'listen_failed',
        message: `The ${what} cannot listen on ${where}: ${error.message}.`,
        fix: `Choose another port or address.`,
      };
  }
}

/** Listens and resolves with the bound address; rejects with a ListenError that explains the fix. */
export function listen(server: Server, what: string, address: string, port: number): Promise<ListenerInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      explainListenError(error, what, address, port).then(
        (problem) => reject(new ListenError(problem, error.code)),
        reject,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      const bound = server.address();
      if (bound && typeof bound === 'object') resolve({ address: bound.address, port: bound.port });
      else resolve({ address, port });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host: address });
  });
}
