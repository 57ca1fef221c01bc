// Sending one DNS message to one server: UDP first, TCP when the answer comes back truncated
// (RFC 1035 §4.2), each attempt bounded so a silent server costs seconds, not minutes.
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';

export interface ServerAddress {
  host: string;
  port: number;
  /** As the user wrote it, for messages. */
  label: string;
}

/** "10.0.0.2", "ns1.example.com:5353", "[fd00::2]:53" → host and port (default 53); null when unreadable. */
export function parseServer(text: string, defaultPort = 53): ServerAddress | null {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  let host: string;
  let port = defaultPort;
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (isIP(trimmed) === 6) {
    host = trimmed;
  } else {
    const [name, portText, ...rest] = trimmed.split(':');
    if (rest.length > 0 || !name) return null;
    host = name;
    if (portText !== undefined) port = Number(portText);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host)) return null;
  return { host, port, label: trimmed };
}

async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = isIP(host);
  if (family !== 0) return { address: host, family: family as 4 | 6 };
  const found = await lookup(host);
  return { address: found.address, family: found.family === 6 ? 6 : 4 };
}

function overUdp(message: Buffer, address: string, family: 4 | 6, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const id = message.readUInt16BE(0);
    const done = (error: Error | null, answer?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(answer!);
    };
    const timer = setTimeout(() => done(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
    socket.on('error', (error) => done(error));
    // Anything that is not the answer to this id (a late answer to an earlier try) is ignored.
    socket.on('message', (answer) => {
      if (answer.length >= 12 && answer.readUInt16BE(0) === id) done(null, answer);
    });
    socket.send(message, port, address, (error) => {
      if (error) done(error);
    });
  });
}

function overTcp(message: Buffer, address: string, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const done = (error: Error | null, answer?: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer!);
    };
    const timer = setTimeout(() => done(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
    socket.on('error', (error) => done(error));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) done(null, received.subarray(2, 2 + received.readUInt16BE(0)));
    });
    socket.on('end', () => done(new Error('the server closed the connection before answering')));
    socket.connect(port, address, () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([length, message]));
    });
  });
}

export interface ExchangeOptions {
  /** Per attempt, ms. Default: 4000. */
  timeoutMs?: number;
  /** UDP attempts before giving up. Default: 2. */
  tries?: number;
}

/** Sends `message` and returns the raw answer; TCP when the UDP answer was truncated. */
export async function exchange(server: ServerAddress, message: Buffer, options: ExchangeOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? 4000;
  const { address, family } = await resolveHost(server.host);
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.tries ?? 2); attempt++) {
    try {
      const answer = await overUdp(message, address, family, server.port, timeoutMs);
      // TC bit: the whole answer only comes over TCP.
      if ((answer.readUInt16BE(2) & 0x0200) !== 0) return await overTcp(message, address, server.port, timeoutMs);
      return answer;
    } catch (error) {
      lastError = error;
      if ((error as NodeJS.ErrnoException).code !== 'ETIMEOUT') break;
    }
  }
  throw lastError;
}
