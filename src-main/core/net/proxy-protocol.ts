// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a load balancer or tunnel sends
// first on a connection to say who the real client is. Parsed incrementally from whatever bytes have
// arrived, with hard size bounds, so a peer can neither make us buffer without limit nor wait for a
// line end that never comes. Used by the proxy listeners (proxy/connection-front.ts); the stream
// listeners of a later issue reuse it.
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv6Groups } from './ipv6-text.js';

/** A v1 header is at most 107 bytes, CRLF included (spec §2.1). */
export const MAX_V1_BYTES = 107;
/**
 * The largest v2 address-and-TLV block accepted, in bytes (the 16-byte fixed part not counted).
 * TCP6 addresses take 36; HAProxy's optional TLVs (ALPN, authority, unique id, SSL facts) fit well
 * within 1 KiB. A peer announcing more is refused rather than buffered. Default: 1024.
 */
export const MAX_V2_LENGTH = 1024;

/** The 12 bytes every v2 header starts with. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

export interface ProxyHeader {
  version: 1 | 2;
  /** The client the header names, or null for LOCAL / UNKNOWN / UNSPEC: keep the socket's peer. */
  source: { address: string; port: number } | null;
  /** The address the client connected to, when given. */
  destination: { address: string; port: number } | null;
  /** Bytes the header took; everything after them is the client's own stream. */
  length: number;
}

/** The header is malformed; `message` says what was wrong, for the log. */
export class ProxyProtocolError extends Error {
  override readonly name = 'ProxyProtocolError';
}

/**
 * Parses a PROXY header from the start of `data`: the header, or null when more bytes are needed.
 * Throws ProxyProtocolError as soon as the bytes cannot start a valid header.
 */
export function parseProxyHeader(data: Buffer): ProxyHeader | null {
  if (data.length === 0) return null;
  if (data[0] === V2_SIGNATURE[0]) return parseV2(data);
  if (data[0] === V1_PREFIX[0]) return parseV1(data);
  throw new ProxyProtocolError('the connection did not start with a PROXY protocol header');
}

function parseV1(data: Buffer): ProxyHeader | null {
  const prefix = Math.min(data.length, V1_PREFIX.length);
  if (!data.subarray(0, prefix).equals(V1_PREFIX.subarray(0, prefix))) {
    throw new ProxyProtocolError('the connection did not start with a PROXY protocol header');
  }
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    if (data.length >= MAX_V1_BYTES) throw new ProxyProtocolError(`the PROXY v1 line is longer than ${MAX_V1_BYTES} bytes`);
    // A lone LF or other control byte can never become a valid line.
    for (let i = 0; i < data.length; i++) {
      const byte = data[i] as number;
      if ((byte < 0x20 && byte !== 0x0d) || byte > 0x7e || (byte === 0x0d && i !== data.length - 1)) throw new ProxyProtocolError('the PROXY v1 line has a character that does not belong in it');
    }
    return null;
  }
  const length = end + 2;
  if (length > MAX_V1_BYTES) throw new ProxyProtocolError(`the PROXY v1 line is longer than ${MAX_V1_BYTES} bytes`);
  const parts = data.toString('latin1', 0, end).split(' ');
  const family = parts[1];
  if (family === 'UNKNOWN') return { version: 1, source: null, destination: null, length };
  if (parts.length !== 6 || (family !== 'TCP4' && family !== 'TCP6')) {
    throw new ProxyProtocolError('the PROXY v1 line is not "PROXY TCP4|TCP6 source destination sourceport destinationport"');
  }
  const valid = family === 'TCP4' ? isIPv4 : isIPv6;
  const [, , source, destination, sourcePort, destinationPort] = parts as [string, string, string, string, string, string];
  if (!valid(source) || !valid(destination)) throw new ProxyProtocolError(`the PROXY v1 line's addresses are not ${family === 'TCP4' ? 'IPv4' : 'IPv6'} addresses`);
  return { version: 1, source: { address: source, port: v1Port(sourcePort) }, destination: { address: destination, port: v1Port(destinationPort) }, length };
}

/** A decimal port 0–65535 without leading zeros (spec §2.1). */
function v1Port(text: string): number {
  if (!/^(?:0|[1-9]\d{0,4})$/.test(text) || Number(text) > 65535) throw new ProxyProtocolError(`the PROXY v1 line's port "${text.slice(0, 10)}" is not a number from 0 to 65535`);
  return Number(text);
}

function parseV2(data: Buffer): ProxyHeader | null {
  const prefix = Math.min(data.length, V2_SIGNATURE.length);
  if (!data.subarray(0, prefix).equals(V2_SIGNATURE.subarray(0, prefix))) {
    throw new ProxyProtocolError('the connection did not start with a PROXY protocol header');
  }
  if (data.length < 16) return null;
  const versionCommand = data[12] as number;
  if (versionCommand >> 4 !== 2) throw new ProxyProtocolError(`the PROXY v2 header says version ${versionCommand >> 4}, not 2`);
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyProtocolError(`the PROXY v2 header has an unknown command ${command}`);
  const familyProtocol = data[13] as number;
  const blockLength = data.readUInt16BE(14);
  if (blockLength > MAX_V2_LENGTH) throw new ProxyProtocolError(`the PROXY v2 header announces ${blockLength} bytes of addresses and extensions; at most ${MAX_V2_LENGTH} are accepted`);
  const length = 16 + blockLength;
  if (data.length < length) return null;
  // LOCAL: the proxy's own connection (a health check); the socket's peer stands.
  if (command === 0) return { version: 2, source: null, destination: null, length };
  const block = data.subarray(16, length);
  switch (familyProtocol) {
    case 0x00: // UNSPEC: the sender could not tell; the spec says to use the real endpoints
      return { version: 2, source: null, destination: null, length };
    case 0x11: // TCP over IPv4
      if (block.length < 12) throw new ProxyProtocolError('the PROXY v2 header is too short for TCP over IPv4 addresses');
      return {
        version: 2,
        source: { address: ipv4(block, 0), port: block.readUInt16BE(8) },
        destination: { address: ipv4(block, 4), port: block.readUInt16BE(10) },
        length,
      };
    case 0x21: // TCP over IPv6
      if (block.length < 36) throw new ProxyProtocolError('the PROXY v2 header is too short for TCP over IPv6 addresses');
      return {
        version: 2,
        source: { address: ipv6(block, 0), port: block.readUInt16BE(32) },
        destination: { address: ipv6(block, 16), port: block.readUInt16BE(34) },
        length,
      };
    default:
      throw new ProxyProtocolError(`the PROXY v2 header is for a transport Gatehouse does not take (family/protocol 0x${familyProtocol.toString(16).padStart(2, '0')}); only TCP over IPv4 or IPv6`);
  }
}

function ipv4(block: Buffer, at: number): string {
  return `${block[at]}.${block[at + 1]}.${block[at + 2]}.${block[at + 3]}`;
}

/** An IPv6 address as people write it: compressed, and an IPv4-mapped one as plain IPv4. */
function ipv6(block: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(block.readUInt16BE(at + i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return ipv4(block, at + 12);
  return formatIpv6Groups(groups);
}

/**
 * The PROXY header Gatehouse sends an upstream that asked for one (a stream's or a passed-through
 * route's `proxyProtocol`): the client and the address it connected to. Both ends must be of one
 * family; an IPv4-mapped IPv6 address counts as IPv4. Mixed or unknown families give v1 "UNKNOWN" /
 * v2 LOCAL-less UNSPEC ("the sender could not tell"), which the upstream treats as "no client".
 */
export function formatProxyHeader(
  version: 1 | 2,
  source: { address: string; port: number },
  destination: { address: string; port: number },
): Buffer {
  const from = plainFamily(source.address);
  const to = plainFamily(destination.address);
  const family = from && to && from.family === to.family ? from.family : null;
  if (version === 1) {
    if (!family || !from || !to) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    return Buffer.from(`PROXY TCP${family} ${from.address} ${to.address} ${source.port} ${destination.port}\r\n`, 'latin1');
  }
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head, 0);
  head[12] = 0x21; // version 2, command PROXY
  if (!family || !from || !to) {
    head[13] = 0x00; // UNSPEC: no addresses follow
    head.writeUInt16BE(0, 14);
    return head;
  }
  const block = Buffer.alloc(family === 4 ? 12 : 36);
  const size = family === 4 ? 4 : 16;
  addressBytes(from.address, family).copy(block, 0);
  addressBytes(to.address, family).copy(block, size);
  block.writeUInt16BE(source.port, size * 2);
  block.writeUInt16BE(destination.port, size * 2 + 2);
  head[13] = family === 4 ? 0x11 : 0x21;
  head.writeUInt16BE(block.length, 14);
  return Buffer.concat([head, block]);
}

function plainFamily(address: string): { family: 4 | 6; address: string } | null {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIPv4(mapped[1] as string)) return { family: 4, address: mapped[1] as string };
  if (isIPv4(bare)) return { family: 4, address: bare };
  if (isIPv6(bare)) return { family: 6, address: bare };
  return null;
}

function addressBytes(address: string, family: 4 | 6): Buffer {
  if (family === 4) return Buffer.from(address.split('.').map(Number));
  // Expand "::" into the missing zero groups, then write eight 16-bit groups.
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const toGroups = (text: string): number[] => {
    if (text === '') return [];
    const parts = text.split(':');
    const last = parts[parts.length - 1] as string;
    if (last.includes('.')) {
      const v4 = last.split('.').map(Number) as [number, number, number, number];
      parts.splice(parts.length - 1, 1, ((v4[0] << 8) | v4[1]).toString(16), ((v4[2] << 8) | v4[3]).toString(16));
    }
    return parts.map((part) => parseInt(part, 16));
  };
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}
