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
