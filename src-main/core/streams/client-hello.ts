// Reading a TLS ClientHello before any TLS starts, to learn the name (SNI) and the protocols (ALPN) a
// client asks for: what TLS passthrough by name decides on. Fed the bytes as they arrive, it answers
// "need more", the hello's name and ALPN list, or "not TLS". It copes with a hello split across TCP
// reads and across TLS records (a handshake message may be fragmented over several records, RFC 8446
// §5.1), and it is bounded: a hello larger than MAX_HELLO_BYTES, too many records, or anything that
// does not parse is "not TLS", and the caller hands the bytes unchanged to the real TLS server, which
// fails them as it always did. Buffers are joined only once a record is complete, so a client sending
// a byte at a time costs linear work, not quadratic. The deadline is the caller's (the header timeout).

/** The largest ClientHello message read (its handshake body; real ones are 200 B - 2 KiB, post-quantum ~1.8 KiB). */
export const MAX_HELLO_BYTES = 16 * 1024;
/** The most records a hello may be spread over; a hostile client could otherwise send 1-byte records. */
export const MAX_HELLO_RECORDS = 64;
/** Every byte the reader may hold: the hello, its handshake header and its record headers. */
export const MAX_PEEK_BYTES = MAX_HELLO_BYTES + 4 + 5 * MAX_HELLO_RECORDS;

const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
/** TLSPlaintext.length is at most 2^14 (RFC 8446 §5.1). */
const MAX_RECORD_LENGTH = 16_384;

export type HelloReading =
  | { kind: 'more' }
  | { kind: 'hello'; serverName: string | null; alpn: string[] }
  | { kind: 'not-tls'; reason: string };

const MORE: HelloReading = { kind: 'more' };

/** Reads one connection's ClientHello from the bytes pushed in; one reader per connection. */
export class ClientHelloReader {
  /** Bytes of the record under way (not yet complete), kept as they came. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** The handshake message's bytes from the complete records so far. */
  private handshake: Buffer[] = [];
  private handshakeLength = 0;
  private records = 0;
  private total = 0;
  private done: HelloReading | null = null;

  /** Takes the next bytes read; once the answer is not "more", it stays that answer. */
  push(chunk: Buffer): HelloReading {
    if (this.done) return this.done;
    this.total += chunk.length;
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
    }
    const result = this.drain();
    if (result.kind !== 'more') {
      this.done = result;
      this.pending = [];
      this.handshake = [];
    } else if (this.total > MAX_PEEK_BYTES) {
      return (this.done = { kind: 'not-tls', reason: `no complete ClientHello within ${MAX_PEEK_BYTES} bytes` });
    }
    return result;
  }

  /** Takes every complete record in `pending`; answers once the hello is whole (or cannot be). */
  private drain(): HelloReading {
    for (;;) {
      if (this.pendingLength < 5) {
        // The first byte alone already tells garbage (an HTTP request, SSLv2's 0x80) from TLS.
        if (this.pendingLength > 0 && this.records === 0 && this.handshakeLength === 0) {
          const first = (this.pending[0] as Buffer)[0] as number;
          if (first !== HANDSHAKE_RECORD) return notTls(`the first byte is 0x${first.toString(16).padStart(2, '0')}, not a TLS handshake record`);
        }
        return MORE;
      }
      const head = this.peekBytes(5);
      if (head[0] !== HANDSHAKE_RECORD) return notTls(`record type ${head[0]} before the ClientHello was complete`);
      if (head[1] !== 0x03) return notTls(`record version ${head[1]}.${head[2]} is not TLS`);
      const length = head.readUInt16BE(3);
      if (length === 0 || length > MAX_RECORD_LENGTH) return notTls(`a handshake record of ${length} bytes`);
      if (this.pendingLength < 5 + length) return MORE;
      if (++this.records > MAX_HELLO_RECORDS) return notTls(`the ClientHello is spread over more than ${MAX_HELLO_RECORDS} records`);
      const joined = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingLength);
      const fragment = joined.subarray(5, 5 + length);
      const rest = joined.subarray(5 + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingLength = rest.length;
      this.handshake.push(fragment);
      this.handshakeLength += fragment.length;
      if (this.handshakeLength < 4) continue;
      const message = this.handshake.length === 1 ? (this.handshake[0] as Buffer) : Buffer.concat(this.handshake, this.handshakeLength);
      this.handshake = [message];
      if (message[0] !== CLIENT_HELLO) return notTls(`handshake message type ${message[0]} instead of a ClientHello`);
      const bodyLength = message.readUIntBE(1, 3);
      if (bodyLength > MAX_HELLO_BYTES) return notTls(`a ClientHello of ${bodyLength} bytes (at most ${MAX_HELLO_BYTES} are read)`);
      if (this.handshakeLength < 4 + bodyLength) continue;
      return parseHelloBody(message.subarray(4, 4 + bodyLength));
    }
  }

  /** The first `count` bytes pending, without taking them (count ≤ pendingLength). */
  private peekBytes(count: number): Buffer {
    const first = this.pending[0] as Buffer;
    if (first.length >= count) return first;
    const joined = Buffer.concat(this.pending, this.pendingLength);
    this.pending = [joined];
    return joined;
  }
}

/** Reads a whole buffer at once (tests, tools): "more" when it ends before the hello does. */
export function readClientHello(data: Buffer): HelloReading {
  return new ClientHelloReader().push(data);
}

function notTls(reason: string): HelloReading {
  return { kind: 'not-tls', reason };
}

/** Parses a ClientHello body (RFC 8446 §4.1.2; TLS 1.0-1.2 share the layout). */
function parseHelloBody(body: Buffer): HelloReading {
  let at = 0;
  const need = (count: number): boolean => at + count <= body.length;
  if (!need(2 + 32 + 1)) return notTls('the ClientHello is too short');
  at += 2 + 32; // legacy_version, random
  const sessionLength = body[at] as number;
  at += 1;
  if (sessionLength > 32 || !need(sessionLength + 2)) return notTls('a malformed session id');
  at += sessionLength;
  const suitesLength = body.readUInt16BE(at);
  at += 2;
  if (suitesLength < 2 || suitesLength % 2 !== 0 || !need(suitesLength + 1)) return notTls('a malformed cipher suite list');
  at += suitesLength;
  const compressionLength = body[at] as number;
  at += 1;
  if (compressionLength < 1 || !need(compressionLength)) return notTls('a malformed compression list');
  at += compressionLength;
  // A hello without extensions (old clients) ends here: no name, no ALPN.
  if (at === body.length) return { kind: 'hello', serverName: null, alpn: [] };
  if (!need(2)) return notTls('a malformed extension block');
  const extensionsLength = body.readUInt16BE(at);
  at += 2;
  if (at + extensionsLength !== body.length) return notTls('the extension block does not fill the ClientHello');
  let serverName: string | null = null;
  let alpn: string[] = [];
  const seen = new Set<number>();
  while (at < body.length) {
    if (!need(4)) return notTls('a truncated extension');
    const type = body.readUInt16BE(at);
    const length = body.readUInt16BE(at + 2);
    at += 4;
    if (!need(length)) return notTls('a truncated extension');
    // RFC 8446 §4.2: no extension type appears twice; a hello where one does is refused by TLS too.
    if (seen.has(type)) return notTls(`extension ${type} appears twice`);
    seen.add(type);
    const data = body.subarray(at, at + length);
    at += length;
    if (type === EXT_SERVER_NAME) {
      const name = parseServerName(data);
      if (name === undefined) return notTls('a malformed server_name extension');
      serverName = name;
    } else if (type === EXT_ALPN) {
      const list = parseAlpn(data);
      if (list === undefined) return notTls('a malformed ALPN extension');
      alpn = list;
    }
  }
  return { kind: 'hello', serverName, alpn };
}

/**
 * The host_name of a server_name extension (RFC 6066 §3); null when it names none or a name no
 * route could carry (not printable ASCII, longer than a DNS name), undefined when malformed.
 */
function parseServerName(data: Buffer): string | null | undefined {
  if (data.length === 0) return null; // a server's empty echo; from a client, no name
  if (data.length < 2 || data.readUInt16BE(0) !== data.length - 2) return undefined;
  let at = 2;
  let name: string | null = null;
  while (at < data.length) {
    if (at + 3 > data.length) return undefined;
    const type = data[at] as number;
    const length = data.readUInt16BE(at + 1);
    at += 3;
    if (at + length > data.length || length === 0) return undefined;
    if (type === 0 && name === null) {
      const bytes = data.subarray(at, at + length);
      name = length <= 255 && bytes.every((byte) => byte > 0x20 && byte < 0x7f) ? bytes.toString('latin1') : null;
    }
    at += length;
  }
  return name;
}

/** The protocol names of an ALPN extension (RFC 7301 §3.1); undefined when malformed. */
function parseAlpn(data: Buffer): string[] | undefined {
  if (data.length < 2 || data.readUInt16BE(0) !== data.length - 2) return undefined;
  const list: string[] = [];
  let at = 2;
  while (at < data.length) {
    const length = data[at] as number;
    at += 1;
    if (length === 0 || at + length > data.length) return undefined;
    list.push(data.subarray(at, at + length).toString('latin1'));
    at += length;
  }
  return list.length > 0 ? list : undefined;
}
