// One FTP session through Gatehouse: the client's control connection, Gatehouse's own control
// connection to the FTP server on the LAN, and the data connections in between.
//
// - Control: relayed line by line (a command line over 4 KiB ends the session with 500). Replies
//   are assembled whole (multi-line too) and answered in the order the commands came, including
//   the ones Gatehouse answers itself.
// - Passive (PASV/EPSV): the server's 227/229 port is remembered, the client is told a port of the
//   stream's passive range on Gatehouse's address (ftp.publicAddress, else the address the client
//   connected to); the one connection from the client's own address to that port is joined to a
//   new connection to the server's port, dialled from the address Gatehouse's control connection
//   to the server uses (servers check that). The address inside the server's 227 is not dialled:
//   the control connection's peer is, as curl and lftp do, so a server advertising another address
//   (a pasv_address set for port mapping) still works and cannot point Gatehouse elsewhere.
// - Active (PORT/EPRT): only to the control client's own address (the FTP bounce attack is refused);
//   Gatehouse opens a port of the range on its LAN-side address, sends the server PORT/EPRT with
//   it, and when the server connects, connects to the client and joins the two.
// - Explicit FTPS: AUTH TLS/SSL is answered by Gatehouse (234) and the client's control connection
//   becomes TLS with the route's certificate; PBSZ, PROT and CCC are answered here too; nothing of
//   it reaches the server, which keeps speaking plain FTP on the LAN. PROT P makes the client side
//   of data connections TLS (Gatehouse is the TLS server in both modes, as RFC 4217 has it).
// - 'required': USER/PASS/ACCT before AUTH TLS get 530 and are not forwarded.
// - Replies to a client that may not see internals have the server's and Gatehouse's LAN-side
//   addresses replaced by the address the client knows (dotted, comma and IPv6 forms).
// - Every 227/229 reply is rewritten as a passive reply, whatever command it answers (vsftpd's
//   "P@SW" alias of PASV is one Gatehouse does not know by name): no server address leaks that way.
import { connect, isIPv4, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { FtpOptions } from '../../../../shared/streams.js';
import { effectiveIdleMs } from '../../../../shared/streams.js';
import { formatProxyHeader } from '../../net/proxy-protocol.js';
import { splice, type Splice } from '../splice.js';
import type { StreamClient, StreamRuntime, UpstreamTarget } from '../stream-types.js';
import type { DataListener, DataPortPool } from './data-ports.js';
import {
  MAX_COMMAND_BYTES,
  MAX_REPLY_LINE_BYTES,
  ReplyReader,
  formatActiveCommand,
  formatEpsvReply,
  formatPasvReply,
  parseCommand,
  parseEprtArgument,
  parseEpsvReply,
  parsePasvReply,
  parsePortArgument,
  plainAddress,
  rewriteFeatReply,
  scrubAddresses,
  type Reply,
} from './ftp-text.js';

/** A command sent to the server whose final reply is awaited, or a reply of Gatehouse's own waiting its turn. */
type Pending =
  | { kind: 'server'; verb: string; transform?: (reply: Reply) => string[] | Promise<string[]> }
  | { kind: 'local'; lines: string[]; after?: () => void };

/** Client commands queued for handling before the client is paused (a flood of pipelined commands). */
const MAX_QUEUED_TASKS = 64;
/** After a graceful end, a side that does not close is destroyed after this long. */
const END_GRACE_MS = 5_000;

export const EXHAUSTED_REPLY = '425 no data port free; widen the passive range of this FTP stream in Gatehouse';

export class FtpSession {
  private control: Socket;
  private upstream: Socket | null = null;
  private target: UpstreamTarget | null = null;
  private secured = false;
  private protectData = false;
  private readonly outstanding: Pending[] = [];
  private work: Promise<void> = Promise.resolve();
  private queuedTasks = 0;
  private clientText = '';
  private serverText = '';
  private readonly replies = new ReplyReader();
  /** The data port waiting for its connection (one at a time: a new PASV/PORT replaces it). */
  private dataListener: DataListener | null = null;
  private readonly transfers = new Set<Splice>();
  /** Data sockets accepted or dialling, not yet joined. */
  private readonly joining = new Set<Socket>();
  private ended = false;
  private finished = false;
  private readonly startedAt = Date.now();
  private lastControl = performance.now();
  private idleTimer: NodeJS.Timeout | null = null;
  private bytesToClient = 0;
  private userName: string | null = null;
  private loggedIn: string | null = null;
  private status = 0;
  private error: string | null = null;
  private detail: string | null = null;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly runtime: StreamRuntime,
    private readonly ftp: FtpOptions,
    private readonly pool: DataPortPool,
    private readonly secureContext: () => SecureContext,
    socket: Socket,
    private readonly client: StreamClient,
    private readonly onFinished: () => void,
  ) {
    this.control = socket;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  start(): void {
    const counters = this.runtime.counters;
    counters.open++;
    counters.total++;
    this.watchClient(this.control);
    void this.connectUpstream().then((upstream) => {
      if (this.ended) {
        upstream?.destroy();
        return;
      }
      if (!upstream) {
        counters.failed++;
        this.status = 502;
        this.error = 'upstream_unreachable';
        this.detail = `no upstream of the FTP stream could be reached (${this.runtime.stream.upstreams.join(', ')})`;
        this.sendNow(['421 Service not available: the FTP server cannot be reached now. Try again later.']);
        this.end(true);
        return;
      }
      this.upstream = upstream;
      upstream.setNoDelay(true);
      upstream.on('data', (chunk: Buffer) => this.onServerData(chunk));
      upstream.on('end', () => this.enqueue(() => this.end(true)));
      upstream.on('error', () => this.end(false));
      upstream.on('close', () => this.enqueue(() => this.end(true)));
      this.control.on('data', this.onClientData);
      this.armIdle();
    });
  }

  /** Ends the session now, cutting transfers too (stream removed, proxy stopping). */
  cut(): Promise<void> {
    this.end(false);
    for (const transfer of [...this.transfers]) transfer.cut();
    for (const socket of [...this.joining]) socket.destroy();
    this.maybeFinish();
    return this.done;
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  private async connectUpstream(): Promise<Socket | null> {
    const stream = this.runtime.stream;
    for (const target of this.runtime.targets(this.client.localPort)) {
      if (this.ended) return null;
      const socket = await dial(target.host, target.port, stream.connectTimeoutMs).catch((error: Error) => {
        this.runtime.reportConnect(target.address, false, error.message);
        return null;
      });
      if (!socket) continue;
      this.runtime.reportConnect(target.address, true);
      this.target = target;
      if (stream.proxyProtocol !== 'off') {
        const header = formatProxyHeader(stream.proxyProtocol === 'v1' ? 1 : 2, { address: this.client.address, port: this.client.port }, { address: this.client.localAddress, port: this.client.localPort });
        socket.write(header);
      }
      return socket;
    }
    return null;
  }

  private watchClient(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => this.end(false));
    socket.on('end', () => this.enqueue(() => this.end(true)));
    socket.on('close', () => this.end(false));
  }

  /** The address the client reaches Gatehouse at (publicAddress, else the one it connected to). */
  private get ownAddress(): string {
    return this.ftp.publicAddress ?? plainAddress(this.client.localAddress);
  }

  /** Gatehouse's address towards the server, and the server's, from the control connection. */
  private get lanSide(): { local: string; server: string } {
    return { local: plainAddress(this.upstream?.localAddress ?? ''), server: plainAddress(this.upstream?.remoteAddress ?? '') };
  }

  // ---------------------------------------------------------------------------------------------
  // Reading both sides

  private readonly onClientData = (chunk: Buffer): void => {
    this.runtime.counters.bytesIn += chunk.length;
    this.lastControl = performance.now();
    this.clientText += chunk.toString('latin1');
    for (;;) {
      const newline = this.clientText.indexOf('\n');
      if (newline === -1) {
        if (this.clientText.length > MAX_COMMAND_BYTES) this.refuseLongLine();
        return;
      }
      const line = this.clientText.slice(0, newline).replace(/\r$/, '');
      this.clientText = this.clientText.slice(newline + 1);
      if (line.length > MAX_COMMAND_BYTES) return this.refuseLongLine();
      if (this.onCommandLine(line) === 'stop') return;
    }
  };

  private refuseLongLine(): void {
    this.control.removeListener('data', this.onClientData);
    this.clientText = '';
    this.enqueue(() => {
      this.local([`500 Command line too long (at most ${MAX_COMMAND_BYTES} bytes).`]);
      this.end(true);
    });
  }

  private onServerData(chunk: Buffer): void {
    this.lastControl = performance.now();
    this.serverText += chunk.toString('latin1');
    for (;;) {
      const newline = this.serverText.indexOf('\n');
      if (newline === -1) {
        if (this.serverText.length > MAX_REPLY_LINE_BYTES) this.serverBroke('a reply line longer than 8 KiB');
        return;
      }
      const line = this.serverText.slice(0, newline).replace(/\r$/, '');
      this.serverText = this.serverText.slice(newline + 1);
      let reply: Reply | null;
      try {
        reply = this.replies.push(line);
      } catch (error) {
        return this.serverBroke((error as Error).message);
      }
      if (reply) {
        const whole = reply;
        this.enqueue(() => this.onReply(whole));
      }
    }
  }

  private serverBroke(why: string): void {
    this.upstream?.removeAllListeners('data');
    this.error = 'ftp_protocol';
    this.detail = `the FTP server broke the protocol: ${why}`;
    this.enqueue(() => {
      this.sendNow(['421 The FTP server sent something Gatehouse could not read; closing.']);
      this.end(true);
    });
  }

  /** Runs `task` after every earlier one (commands and replies keep their order, async steps included). */
  private enqueue(task: () => void | Promise<void>): void {
    this.queuedTasks++;
    if (this.queuedTasks > MAX_QUEUED_TASKS) this.control.pause();
    this.work = this.work
      .then(task)
      .catch((error: unknown) => {
        this.error ??= 'ftp_internal';
        this.detail ??= `FTP session failed: ${(error as Error).message}`;
        this.end(false);
      })
      .finally(() => {
        this.queuedTasks--;
        if (this.queuedTasks <= MAX_QUEUED_TASKS / 2 && !this.ended && this.control.isPaused()) this.control.resume();
      });
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  /** Handles one command line; 'stop' when bytes after it must not be read as text (AUTH TLS). */
  private onCommandLine(line: string): 'stop' | undefined {
    const { verb, argument } = parseCommand(line);
    if (verb === 'AUTH' && this.ftp.tls !== 'off' && !this.secured && /^(TLS|SSL|TLS-C|TLS-P)$/i.test(argument.trim())) {
      this.control.removeListener('data', this.onClientData);
      this.enqueue(() => this.startTls());
      return 'stop';
    }
    this.enqueue(() => this.onCommand(line, verb, argument));
    return undefined;
  }

  private async onCommand(line: string, verb: string, argument: string): Promise<void> {
    if (this.ended) return;
    const tlsOn = this.ftp.tls !== 'off';
    switch (verb) {
      case 'AUTH':
        if (!tlsOn) return this.local(['534 FTPS is not offered on this port.']);
        if (this.secured) return this.local(['503 TLS is already in use.']);
        return this.local([`504 AUTH ${argument.trim()} is not supported; use AUTH TLS.`]);
      case 'PBSZ':
        if (!this.secured) return this.local([tlsOn ? '503 Send AUTH TLS first.' : '502 FTPS is not offered on this port.']);
        return this.local(['200 PBSZ=0']);
      case 'PROT': {
        if (!this.secured) return this.local([tlsOn ? '503 Send AUTH TLS first.' : '502 FTPS is not offered on this port.']);
        const level = argument.trim().toUpperCase();
        if (level === 'P') {
          this.protectData = true;
          return this.local(['200 PROT now Private.']);
        }
        if (level === 'C') {
          this.protectData = false;
          return this.local(['200 PROT now Clear.']);
        }
        if (level === 'S' || level === 'E') return this.local(['536 PROT level not supported: use P or C.']);
        return this.local(['504 PROT takes P or C.']);
      }
      case 'CCC':
        return this.local(['533 CCC refused: the control connection stays encrypted.']);
      case 'USER':
      case 'PASS':
      case 'ACCT':
        if (this.ftp.tls === 'required' && !this.secured) return this.local(['530 this server requires TLS (AUTH TLS) before login.']);
        if (verb === 'USER') this.userName = argument.trim();
        return this.forward(line, verb, (reply) => {
          if (reply.code === 230) this.loggedIn = this.userName;
          return reply.lines;
        });
      case 'FEAT':
        return this.forward(line, verb, (reply) => rewriteFeatReply(reply, { tls: tlsOn, active: this.ftp.allowActive }));
      case 'PASV':
        if (!isIPv4(this.ownAddress)) return this.local(['425 PASV cannot carry the IPv6 address you connected to: use EPSV.']);
        return this.forward('PASV', verb, (reply) => this.passiveReply(reply, 'pasv'));
      case 'EPSV':
        if (argument.trim().toUpperCase() === 'ALL') return this.forward(line, verb);
        // The protocol argument ("EPSV 2") speaks of the client's side; the server's is Gatehouse's LAN side.
        return this.forward('EPSV', verb, (reply) => this.passiveReply(reply, 'epsv'));
      case 'PORT':
      case 'EPRT':
        return this.active(verb, argument);
      case 'LPRT':
      case 'LPSV':
        return this.local([`502 ${verb} is not supported: use EPSV or PASV.`]);
      default:
        return this.forward(line, verb);
    }
  }

  private forward(line: string, verb: string, transform?: (reply: Reply) => string[] | Promise<string[]>): void {
    if (!this.upstream || this.ended) return;
    this.outstanding.push({ kind: 'server', verb, ...(transform ? { transform } : {}) });
    this.upstream.write(`${line}\r\n`, 'latin1');
  }

  /** A reply of Gatehouse's own, sent once every earlier command has had its reply. */
  private local(lines: string[], after?: () => void): void {
    if (this.outstanding.length === 0) {
      this.sendNow(lines);
      after?.();
      return;
    }
    this.outstanding.push({ kind: 'local', lines, ...(after ? { after } : {}) });
  }

  private startTls(): void {
    let context: SecureContext;
    try {
      context = this.secureContext();
    } catch (error) {
      this.error = 'ftp_tls_certificate';
      this.detail = `FTPS has no usable certificate: ${(error as Error).message}`;
      this.local(['431 FTPS is not available now (no usable certificate).']);
      this.control.on('data', this.onClientData);
      return;
    }
    this.local(['234 Proceed with negotiation.'], () => {
      if (this.ended) return;
      if (this.clientText !== '') {
        // Bytes after AUTH TLS that were read as text before the reply: the client did not wait.
        this.detail = 'the FTP client sent data after AUTH TLS before the reply';
        this.end(false);
        return;
      }
      const plain = this.control;
      const secure = new TLSSocket(plain, { isServer: true, secureContext: context });
      this.control = secure;
      this.secured = true;
      this.watchClient(secure);
      secure.on('data', this.onClientData);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Replies

  private async onReply(reply: Reply): Promise<void> {
    if (this.ended) return;
    if (reply.code < 200) return this.sendNow(reply.lines);
    const head = this.outstanding[0];
    let lines = reply.lines;
    const asked = head?.kind === 'server' ? head : null;
    if (asked) this.outstanding.shift();
    if ((reply.code === 227 || reply.code === 229) && asked?.verb !== 'PASV' && asked?.verb !== 'EPSV') {
      // A passive reply to a command Gatehouse does not know as passive (vsftpd's "P@SW" alias of
      // PASV, a server's own extension, or no command at all): it is the passive reply it looks
      // like, so it is rewritten as one. Passed on, it would give the client the server's LAN
      // address and a port nothing joins.
      lines = await this.passiveReply(reply, reply.code === 227 ? 'pasv' : 'epsv');
    } else if (asked?.transform) lines = await asked.transform(reply);
    this.sendNow(lines);
    // Replies of Gatehouse's own that were waiting for this one.
    while (this.outstanding[0]?.kind === 'local') {
      const next = this.outstanding.shift() as Extract<Pending, { kind: 'local' }>;
      this.sendNow(next.lines);
      next.after?.();
    }
  }

  private sendNow(lines: string[]): void {
    if (this.control.destroyed || this.control.writableEnded) return;
    let text = `${lines.join('\r\n')}\r\n`;
    if (!this.client.seesDetails && this.upstream) {
      const { local, server } = this.lanSide;
      text = scrubAddresses(text, [server, local, this.target?.host ?? ''], this.ownAddress);
    }
    this.runtime.counters.bytesOut += text.length;
    this.bytesToClient += text.length;
    this.control.write(text, 'latin1');
  }

  // ---------------------------------------------------------------------------------------------
  // Data connections

  /** The server's 227/229 becomes Gatehouse's own, in the form the client asked for. */
  private async passiveReply(reply: Reply, form: 'pasv' | 'epsv'): Promise<string[]> {
    if (reply.code !== 227 && reply.code !== 229) return reply.lines;
    if (form === 'pasv' && !isIPv4(this.ownAddress)) return ['425 PASV cannot carry the IPv6 address you connected to: use EPSV.'];
    const text = reply.lines.join(' ');
    const serverPort = reply.code === 227 ? parsePasvReply(text) : parseEpsvReply(text);
    if (serverPort === null) return ['425 Gatehouse could not read the FTP server\'s passive reply.'];
    const { local, server } = this.lanSide;
    const listener = await this.openDataPort(this.runtime.bindAddress(), plainAddress(this.client.address), (socket) => {
      this.joinDialled(socket, server, serverPort, local, 'server');
    });
    if (!listener) return [EXHAUSTED_REPLY];
    return [form === 'pasv' ? formatPasvReply(this.ownAddress, listener.port) : formatEpsvReply(listener.port)];
  }

  private async active(verb: 'PORT' | 'EPRT', argument: string): Promise<void> {
    if (!this.ftp.allowActive) return this.local([`502 Active mode (${verb}) is off for this FTP stream: use passive mode (EPSV or PASV).`]);
    const target = verb === 'PORT' ? parsePortArgument(argument) : parseEprtArgument(argument);
    if (!target) return this.local([`501 ${verb} ${argument.trim()} is not a valid address and port.`]);
    if (plainAddress(target.address) !== plainAddress(this.client.address) || target.port < 1024) {
      // FTP bounce: a client may only receive data at its own address (and not on a privileged port).
      this.error ??= 'ftp_bounce_refused';
      this.detail ??= `${verb} to ${target.address}:${target.port} refused: not the client's own address`;
      return this.local([`504 ${verb} refused: data connections go only to your own address, on a port from 1024 up.`]);
    }
    if (!this.upstream) return;
    const { local, server } = this.lanSide;
    const listener = await this.openDataPort(local, server, (socket) => {
      this.joinDialled(socket, target.address, target.port, plainAddress(this.client.localAddress), 'client');
    });
    if (!listener) return this.local([EXHAUSTED_REPLY]);
    this.forward(formatActiveCommand(local, listener.port), verb, (reply) => {
      if (reply.code >= 300) listener.close();
      return reply.lines;
    });
  }

  /** A data port for one connection from `peer`; replaces the one still waiting, if any. */
  private async openDataPort(host: string, peer: string, onSocket: (socket: Socket) => void): Promise<DataListener | null> {
    this.dataListener?.close();
    this.dataListener = null;
    const listener = await this.pool.open({
      host,
      peer,
      onSocket: (socket) => {
        if (this.dataListener === listener) this.dataListener = null;
        if (this.finished) return void socket.destroy();
        this.joining.add(socket);
        socket.on('error', () => {});
        socket.once('close', () => {
          this.joining.delete(socket);
          this.maybeFinish();
        });
        onSocket(socket);
      },
    });
    if (!listener) {
      this.error = 'ftp_passive_exhausted';
      this.detail = `no data port free in ${this.pool.from}–${this.pool.to}; widen the passive range`;
      return null;
    }
    if (this.ended) {
      listener.close();
      return null;
    }
    this.dataListener = listener;
    return listener;
  }

  /**
   * `accepted` arrived on a data port: dial the other end (`host:port` from `localAddress`) and join
   * them. `accepted` is the client's side when the server is dialled (passive), and the server's
   * when the client is dialled (active).
   */
  private joinDialled(accepted: Socket, host: string, port: number, localAddress: string, dialling: 'server' | 'client'): void {
    const dialled = connect({ host, port, localAddress, allowHalfOpen: true });
    this.joining.add(dialled);
    const timer = setTimeout(() => dialled.destroy(), this.runtime.stream.connectTimeoutMs);
    dialled.on('error', () => accepted.destroy());
    dialled.once('close', () => {
      this.joining.delete(dialled);
      clearTimeout(timer);
    });
    dialled.once('connect', () => {
      clearTimeout(timer);
      if (this.finished || accepted.destroyed) return void dialled.destroy();
      this.joining.delete(dialled);
      this.joining.delete(accepted);
      const clientRaw = dialling === 'server' ? accepted : dialled;
      const serverSide = dialling === 'server' ? dialled : accepted;
      this.join(clientRaw, serverSide);
    });
  }

  private join(clientRaw: Socket, serverSide: Socket): void {
    clientRaw.setNoDelay(true);
    const clientSide = this.protectData ? new TLSSocket(clientRaw, { isServer: true, secureContext: this.secureContext() }) : clientRaw;
    const counters = this.runtime.counters;
    const transfer = splice(clientSide, serverSide, {
      idleMs: effectiveIdleMs(this.runtime.stream),
      onClientBytes: (bytes) => {
        counters.bytesIn += bytes;
      },
      onUpstreamBytes: (bytes) => {
        counters.bytesOut += bytes;
        this.bytesToClient += bytes;
      },
      onClose: () => {
        this.transfers.delete(transfer);
        this.lastControl = performance.now();
        this.maybeFinish();
      },
    });
    this.transfers.add(transfer);
  }

  // ---------------------------------------------------------------------------------------------
  // The end

  private armIdle(): void {
    const idleMs = effectiveIdleMs(this.runtime.stream);
    const check = (): void => {
      if (this.ended) return;
      const quiet = performance.now() - this.lastControl;
      // A long transfer keeps the control connection silent: that is not idle.
      if (this.transfers.size > 0 || quiet < idleMs) {
        this.idleTimer = setTimeout(check, Math.max(1000, idleMs - quiet));
        this.idleTimer.unref();
        return;
      }
      this.sendNow(['421 Idle for too long; closing.']);
      this.end(true);
    };
    this.idleTimer = setTimeout(check, idleMs);
    this.idleTimer.unref();
  }

  /**
   * Ends the control connections (gracefully: what was written is delivered first). Transfers
   * under way finish on their own; a data port still waiting is closed.
   */
  private end(graceful: boolean): void {
    if (this.ended) return this.maybeFinish();
    this.ended = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.dataListener?.close();
    this.dataListener = null;
    for (const socket of [this.control, this.upstream]) {
      if (!socket) continue;
      if (graceful && !socket.destroyed) {
        socket.end();
        setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
      } else socket.destroy();
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finished || !this.ended || this.transfers.size > 0 || this.joining.size > 0) return;
    this.finished = true;
    this.runtime.counters.open--;
    this.runtime.log({
      time: new Date(this.startedAt).toISOString(),
      client: this.client.address,
      host: '',
      method: 'FTP',
      path: `:${this.client.localPort}`,
      status: this.status,
      bytes: this.bytesToClient,
      durationMs: Date.now() - this.startedAt,
      routeId: null,
      upstream: this.target?.address ?? null,
      error: this.error,
      detail: this.detail,
      rule: null,
      user: this.loggedIn,
      streamId: this.runtime.stream.id,
    });
    this.onFinished();
    this.resolveDone();
  }
}

/** Connects to `host:port` within `timeoutMs`; the socket allows half-open (data splices need it). */
function dial(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
