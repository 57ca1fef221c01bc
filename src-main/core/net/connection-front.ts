// What every accepted connection passes before a byte of HTTP or TLS is parsed, on both proxy
// listeners (one front is shared, so a client's connections are counted across them):
//   1. from a peer in proxy.proxyProtocolFrom, the PROXY protocol header (v1 or v2) is read, with a
//      short deadline and a size bound; its address becomes the connection's peer (PEER_ADDRESS),
//      and a listed peer that sends no valid header is cut off. A header that names no client
//      (UNKNOWN, LOCAL: health checks, unix-socket clients) leaves the proxy as the peer and marks
//      the connection (NAMED_NO_CLIENT): its requests count as from outside this network. Unlisted peers are never asked: a
//      PROXY line from them reaches the HTTP parser and fails there as a bad request.
//   2. the per-client connection cap (access.maxConnectionsPerClient): open connections are counted
//      per peer address (an IPv6 peer by its /64, access/client-key.ts: one subscriber holds the
//      whole /64), this machine's networks and trusted proxies excepted; one more than the cap is
//      refused (HTTP gets a 429 page, TLS is closed before its handshake).
// The server's own 'connection' listeners (Node's HTTP parser, the TLS wrapper) are taken over and
// called once the connection passed, with the bytes read past the header put back in front.
import { BlockList, isIPv6, type Server, type Socket } from 'node:net';
import { clientKey } from '../access/client-key.js';
import { parseProxyHeader, ProxyProtocolError } from './proxy-protocol.js';

/** The peer a PROXY protocol header named; read through peerAddress() (proxy/request-head.ts). */
export const PEER_ADDRESS = Symbol('gatehouse.peerAddress');
/**
 * Set on a connection whose PROXY header named no client (v1 UNKNOWN, v2 LOCAL or UNSPEC): its peer
 * stays the proxy's own address, which says nothing about who is asking. Read through
 * proxyNamedNoClient() (proxy/request-head.ts); the client-address pass then counts the request as
 * from outside this network.
 */
export const NAMED_NO_CLIENT = Symbol('gatehouse.namedNoClient');

/** How long a listed peer has to send its PROXY header. Default: 3000 ms (proxies send it at once). */
export const PROXY_HEADER_TIMEOUT_MS = 3000;
/**
 * Distinct client addresses counted at once. Every entry is an open connection, so the OS's file
 * limit bounds the map already; past this, new addresses are let in uncounted rather than grow it.
 */
export const MAX_COUNTED_CLIENTS = 100_000;

export interface FrontOptions {
  /** The address a connection counts under, once its header (if any) was read. */
  peerOf(socket: Socket): string;
  /** Exempt from the cap: this machine's networks, trusted proxies. */
  exempt(address: string): boolean;
  /** Told when a connection from a listed peer was cut off for a missing or bad PROXY header. */
  onBadHeader?(peer: string, reason: string): void;
}

type Refuse = (socket: Socket, client: string) => void;

/**
 * The per-client connection count (access.maxConnectionsPerClient): open connections per client
 * address (an IPv6 one by its /64, access/client-key.ts), exempt addresses (this machine's networks,
 * trusted proxies) not counted. Used by the proxy listeners' front (below) and by the stream engine
 * (streams/stream-manager.ts), each with its own count.
 */
export class ClientConnectionCount {
  private limit = 0;
  private readonly open = new Map<string, number>();

  constructor(private readonly exempt: (address: string) => boolean) {}

  /** Open connections one client address may hold; 0 = no limit. Applies to new connections. */
  setLimit(limit: number): void {
    this.limit = limit;
  }

  /** Whether a limit is set (else take() admits everything without counting). */
  get limited(): boolean {
    return this.limit > 0;
  }

  /** Open connections counted for `address` (with the rest of its /64 when IPv6) now. */
  openFrom(address: string): number {
    return this.open.get(clientKey(address)) ?? 0;
  }

  /** How many addresses are being counted. */
  get countedClients(): number {
    return this.open.size;
  }

  /**
   * Counts `socket` under `client` until it closes; false (nothing counted) when `client` already
   * holds the limit. No limit, an exempt or empty address: true, uncounted.
   */
  take(socket: Socket, client: string): boolean {
    if (this.limit <= 0 || client === '' || this.exempt(client)) return true;
    const key = clientKey(client);
    const count = this.open.get(key) ?? 0;
    if (count >= this.limit) return false;
    if (count > 0 || this.open.size < MAX_COUNTED_CLIENTS) {
      this.open.set(key, count + 1);
      socket.once('close', () => this.release(key));
    }
    return true;
  }

  private release(key: string): void {
    const count = (this.open.get(key) ?? 1) - 1;
    if (count <= 0) this.open.delete(key);
    else this.open.set(key, count);
  }
}

export class ConnectionFront {
  private proxyPeers: BlockList | null = null;
  private readonly count: ClientConnectionCount;
  /** Connections still sending their PROXY header: cut by destroyAll(). */
  private readonly pending = new Set<Socket>();

  constructor(private readonly options: FrontOptions) {
    this.count = new ClientConnectionCount((address) => options.exempt(address));
  }

  /** Peers that must open with a PROXY header (proxy.proxyProtocolFrom); applies to new connections. */
  setProxyProtocolFrom(entries: readonly string[]): void {
    if (entries.length === 0) return void (this.proxyPeers = null);
    const list = new BlockList();
    for (const entry of entries) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const type = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    }
    this.proxyPeers = list;
  }

  /** Open connections one client address may hold; 0 = no limit. Applies to new connections. */
  setLimit(limit: number): void {
    this.count.setLimit(limit);
  }

  /** Open connections counted for `address` (with the rest of its /64 when IPv6) now (tests, the dashboard). */
  openFrom(address: string): number {
    return this.count.openFrom(address);
  }

  /** How many addresses are being counted. */
  get countedClients(): number {
    return this.count.countedClients;
  }

  /**
   * Puts the front before `server`'s own connection handling. `tls`: the server wraps connections
   * in TLS (which reads put-back bytes itself). `refuse` answers a connection over the cap and must
   * end it; the default closes it (all a TLS listener can do before its handshake).
   */
  attach(server: Server, tls: boolean, refuse: Refuse = (socket) => socket.destroy()): void {
    const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    const admit = (socket: Socket) => {
      for (const listener of listeners) listener.call(server, socket);
    };
    server.on('connection', (socket: Socket) => this.onConnection(socket, admit, refuse, !tls));
  }

  /** Cuts the connections still sending their PROXY header (the listeners are stopping). */
  destroyAll(): void {
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
  }

  private onConnection(socket: Socket, admit: (socket: Socket) => void, refuse: Refuse, plain: boolean): void {
    socket.on('error', () => {}); // a reset before the server took over is routine
    const raw = plainAddress(socket.remoteAddress ?? '');
    if (this.proxyPeers !== null && raw !== '' && this.proxyPeers.check(raw, isIPv6(raw) ? 'ipv6' : 'ipv4')) {
      this.readHeader(socket, raw, () => this.pass(socket, admit, refuse, plain));
      return;
    }
    this.pass(socket, admit, refuse, false);
  }

  private pass(socket: Socket, admit: (socket: Socket) => void, refuse: Refuse, resume: boolean): void {
    if (socket.destroyed) return;
    const client = this.count.limited ? this.options.peerOf(socket) : '';
    if (!this.count.take(socket, client)) return refuse(socket, client);
    admit(socket);
    // The header reader paused the socket; the HTTP server only reads what it is handed once it
    // flows again (the TLS wrapper reads the put-back bytes itself).
    if (resume && !socket.destroyed) socket.resume();
  }

  /** Reads the PROXY header, sets PEER_ADDRESS, puts the rest back, then calls `done`; or closes the connection. */
  private readHeader(socket: Socket, raw: string, done: () => void): void {
    this.pending.add(socket);
    let received: Buffer = Buffer.alloc(0);
    const fail = (reason: string) => {
      cleanup();
      this.options.onBadHeader?.(raw, reason);
      socket.destroy();
    };
    const timer = setTimeout(() => fail(`no PROXY protocol header within ${PROXY_HEADER_TIMEOUT_MS} ms`), PROXY_HEADER_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      this.pending.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
    };
    const onClose = () => cleanup();
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      let header;
      try {
        header = parseProxyHeader(received);
      } catch (error) {
        return fail(error instanceof ProxyProtocolError ? error.message : String(error));
      }
      if (header === null) return;
      socket.pause();
      cleanup();
      if (header.source !== null) (socket as Socket & { [PEER_ADDRESS]?: string })[PEER_ADDRESS] = plainAddress(header.source.address);
      else (socket as Socket & { [NAMED_NO_CLIENT]?: boolean })[NAMED_NO_CLIENT] = true;
      const rest = received.subarray(header.length);
      if (rest.length > 0) socket.unshift(rest);
      done();
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  }
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
