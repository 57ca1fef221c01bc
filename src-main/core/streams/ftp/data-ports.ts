// The FTP stream's data ports: one listener per data connection, from the stream's passive range,
// opened on demand (a PASV/EPSV reply or a PORT/EPRT command) and closed as soon as its one
// connection arrived, after a timeout, or with the session. A listener accepts only the peer it
// was opened for (the control connection's client for passive mode, the FTP server for active
// mode): anyone else is cut, so a port scanner cannot steal a transfer.
//
// Every listener is tracked until it has closed: close() frees every port, and a port is offered
// again only once its listener is gone. A port someone else holds (EADDRINUSE) is skipped.
import { createServer, type Server, type Socket } from 'node:net';
import { plainAddress } from './ftp-text.js';

/** A data listener waits this long for its one connection, then closes. */
export const DATA_ACCEPT_MS = 30_000;

export interface DataListener {
  readonly port: number;
  /** Closes the listener now (a newer PASV replaced it, the session ended); never calls onSocket after. */
  close(): void;
}

export interface OpenOptions {
  /** The address to listen on. */
  host: string;
  /** The only peer address accepted (normalized: an IPv4-mapped address counts as IPv4). */
  peer: string;
  /** The accepted socket; the listener is closed by then. */
  onSocket(socket: Socket): void;
  /** Nobody (allowed) connected in time; the listener is closed. */
  onTimeout?(): void;
  /** Someone else tried to connect (cut). */
  onStranger?(address: string): void;
  acceptMs?: number;
}

export class DataPortPool {
  private readonly held = new Map<number, Server>();
  /** Stops each armed listener's timer and callbacks (close() calls them first). */
  private readonly disarms = new Set<() => void>();
  /** Servers whose bind has not settled, with who waits for that (close()). */
  private readonly binding = new Map<Server, (() => void)[]>();
  private cursor = 0;
  private closed = false;

  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  /** Ports whose listener is open now. */
  get inUse(): number {
    return this.held.size;
  }

  /** Opens a listener on a free port of the range; null when every port is taken. */
  async open(options: OpenOptions): Promise<DataListener | null> {
    const size = this.to - this.from + 1;
    for (let tried = 0; tried < size && !this.closed; tried++) {
      const port = this.from + ((this.cursor + tried) % size);
      if (this.held.has(port)) continue;
      const server = await this.listen(port, options.host);
      if (this.closed) return null;
      if (!server) continue;
      this.cursor = (port - this.from + 1) % size;
      return this.arm(port, server, options);
    }
    return null;
  }

  private listen(port: number, host: string): Promise<Server | null> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    // Reserve the port before the bind resolves, so a concurrent open() skips it.
    this.held.set(port, server);
    this.binding.set(server, []);
    const settled = (): void => {
      for (const wake of this.binding.get(server) ?? []) wake();
      this.binding.delete(server);
    };
    return new Promise((resolve) => {
      server.once('error', () => {
        if (this.held.get(port) === server) this.held.delete(port);
        settled();
        resolve(null);
      });
      server.listen({ port, host, exclusive: true }, () => {
        if (this.closed) {
          server.close(() => settled());
          resolve(null);
          return;
        }
        settled();
        resolve(server);
      });
    });
  }

  private arm(port: number, server: Server, options: OpenOptions): DataListener {
    let done = false;
    const close = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.disarms.delete(close);
      server.close(() => {
        if (this.held.get(port) === server) this.held.delete(port);
      });
    };
    const timer = setTimeout(() => {
      if (done) return;
      close();
      options.onTimeout?.();
    }, options.acceptMs ?? DATA_ACCEPT_MS);
    timer.unref();
    this.disarms.add(close);
    server.on('error', () => close());
    server.on('connection', (socket: Socket) => {
      const from = plainAddress(socket.remoteAddress ?? '');
      if (done || from !== plainAddress(options.peer)) {
        socket.destroy();
        if (!done) options.onStranger?.(from);
        return;
      }
      close();
      options.onSocket(socket);
    });
    return { port, close };
  }

  /** Closes every listener; resolves once every port is free. */
  async close(): Promise<void> {
    this.closed = true;
    for (const disarm of [...this.disarms]) disarm();
    await Promise.all(
      [...this.held.entries()].map(([port, server]) => {
        this.held.delete(port);
        // Still binding: open() sees `closed` once the bind settles and closes it then.
        if (this.binding.has(server)) return new Promise<void>((resolve) => this.binding.get(server)!.push(resolve));
        // Disarmed above (its handle is closed; accepted sockets are the sessions' to cut), or open.
        return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      }),
    );
  }
}
