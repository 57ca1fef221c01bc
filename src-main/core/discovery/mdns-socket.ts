// The one multicast DNS socket Gatehouse uses (UDP 5353, group 224.0.0.251), shared by the service
// browser and the name publisher: one membership, one place that turns socket failures into a
// Problem the Discovery page can show. IPv4 only: multicast-dns needs an interface per IPv6 socket,
// and every home-lab device that speaks mDNS also speaks it over IPv4.
import { createSocket, type Socket } from 'node:dgram';
import type makeMdns from 'multicast-dns';
import type { Problem } from '../../../shared/status.js';

export const MDNS_GROUP = '224.0.0.251';
export const MDNS_PORT = 5353;

export type MdnsPacket = makeMdns.QueryPacket | makeMdns.ResponsePacket;
export type MdnsOutgoing = Parameters<makeMdns.MulticastDNS['respond']>[0];
export type MdnsQuery = makeMdns.QueryOutgoingPacket;
/** A resource record as multicast-dns decodes and encodes it (dns-packet's Answer). */
export type MdnsRecord = makeMdns.ResponsePacket['answers'][number];
export type MdnsQuestion = makeMdns.QueryPacket['questions'][number];
export interface Sender {
  address: string;
  port: number;
}

export interface MdnsSocketOptions {
  /**
   * The IPv4 address of the interface to use for mDNS (membership and sending). Default: join the
   * group on every interface and send where the system routes 224.0.0.251.
   */
  interfaceAddress?: string;
}

/** A failure of the socket itself, as the user should read it. */
export function socketProblem(error: NodeJS.ErrnoException): Problem {
  switch (error.code) {
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'EADDRNOTAVAIL':
      return {
        code: 'mdns_no_route',
        message: 'mDNS cannot send: this machine has no network route for multicast (224.0.0.251), so it is probably not connected to a LAN.',
        fix: 'Connect this machine to your network (Ethernet or Wi-Fi). If it is connected, add a multicast route on the LAN interface, e.g. "ip route add 224.0.0.0/4 dev eth0".',
      };
    case 'EADDRINUSE':
      return {
        code: 'mdns_port_in_use',
        message: 'mDNS cannot listen: another program holds UDP port 5353 without sharing it.',
        fix: 'Stop the program that holds UDP port 5353 (see "ss -ulpn sport = :5353"), or turn mDNS off in Settings.',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        code: 'mdns_not_allowed',
        message: 'mDNS is not allowed here: the system refused UDP port 5353 or multicast.',
        fix: 'Allow UDP port 5353 and multicast to 224.0.0.251 in the firewall, or turn mDNS off in Settings.',
      };
    default:
      return { code: 'mdns_failed', message: `mDNS stopped working: ${error.message}.`, fix: 'Check the network connection; Gatehouse retries on its own.' };
  }
}

export class MdnsSocket {
  readonly #socket: Socket;
  readonly #mdns: makeMdns.MulticastDNS;
  #closed = false;
  /** Called with the latest send failure (null once a send succeeds again). */
  onHealth: (problem: Problem | null) => void = () => {};

  private constructor(options: MdnsSocketOptions, create: typeof makeMdns) {
    // Our own socket, so a packet multicast-dns cannot encode (a question with the QU bit) can be
    // sent as raw bytes through it.
    this.#socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.#mdns = create({
      socket: this.#socket,
      ...(options.interfaceAddress ? { interface: options.interfaceAddress } : {}),
      // Bound to every address: Linux delivers multicast only to sockets bound to INADDR_ANY (or the
      // group), so binding the interface's own address would receive nothing.
      bind: '0.0.0.0',
    });
    // multicast-dns reports membership and decoding trouble as warnings: a malformed packet from
    // some device must not stop anything, and a missing membership shows as nothing received.
    this.#mdns.on('warning', () => {});
    // One listener per browsed type (bonjour-service's Browsers) plus ours: more than the default 10.
    this.#mdns.setMaxListeners(0);
  }

  /** Binds UDP 5353 and joins the group; rejects with the Problem when the socket cannot be used. */
  static async open(options: MdnsSocketOptions = {}): Promise<MdnsSocket> {
    // multicast-dns is imported here, when mDNS starts, so a run with mDNS off never loads it.
    const { default: create } = await import('multicast-dns');
    const socket = new MdnsSocket(options, create);
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        void socket.close();
        reject(new MdnsSocketError(socketProblem(error)));
      };
      socket.#mdns.once('error', onError);
      socket.#mdns.once('ready', () => {
        socket.#mdns.removeListener('error', onError);
        // Later bind-level errors (rare once bound) are reported, never thrown at the event loop.
        socket.#mdns.on('error', (error: NodeJS.ErrnoException) => socket.onHealth(socketProblem(error)));
        resolve(socket);
      });
    });
  }

  /** Calls `listener` for every query received (our own included: multicast loops back) until the returned function is called. */
  onQuery(listener: (packet: makeMdns.QueryPacket, from: Sender) => void): () => void {
    const handler = (packet: MdnsPacket, from: Sender) => listener(packet as makeMdns.QueryPacket, from);
    this.#mdns.on('query', handler);
    return () => void this.#mdns.removeListener('query', handler);
  }

  /** Calls `listener` for every response received (our own included) until the returned function is called. */
  onResponse(listener: (packet: makeMdns.ResponsePacket, from: Sender) => void): () => void {
    const handler = (packet: MdnsPacket, from: Sender) => listener(packet as makeMdns.ResponsePacket, from);
    this.#mdns.on('response', handler);
    return () => void this.#mdns.removeListener('response', handler);
  }

  /** Calls `listener` when the socket joined the group on an interface it had not (a network came up). */
  onNetworkChange(listener: () => void): () => void {
    this.#mdns.on('networkInterface', listener);
    return () => void this.#mdns.removeListener('networkInterface', listener);
  }

  /** The multicast-dns instance, for bonjour-service's Browser (which queries and listens on it). */
  get mdns(): makeMdns.MulticastDNS {
    return this.#mdns;
  }

  /** Multicasts a query. */
  query(packet: MdnsQuery): Promise<void> {
    return this.#track((done) => this.#mdns.query(packet, done));
  }

  /** Multicasts a response, or sends it to `to` (a unicast reply). */
  respond(packet: MdnsOutgoing, to?: Sender): Promise<void> {
    return this.#track((done) => (to ? this.#mdns.respond(packet, to, done) : this.#mdns.respond(packet, done)));
  }

  /** Multicasts bytes encoded by the caller. */
  sendRaw(bytes: Buffer): Promise<void> {
    return this.#track((done) => this.#socket.send(bytes, MDNS_PORT, MDNS_GROUP, done));
  }

  /** Resolves when the send is done; a failure is reported through onHealth and resolves too. */
  #track(send: (done: (error?: Error | null) => void) => void): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      send((error) => {
        this.onHealth(error ? socketProblem(error as NodeJS.ErrnoException) : null);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#mdns.destroy(() => resolve()));
  }
}

export class MdnsSocketError extends Error {
  override readonly name = 'MdnsSocketError';
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}
