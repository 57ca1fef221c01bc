// The few DNS messages RFC 2136 updates need, on the wire (RFC 1035 §4): a SOA query to find the
// zone, an UPDATE with TXT records added or deleted, and reading the answer back. Written here
// rather than taken from a packet library because TSIG (tsig.ts) signs the exact bytes sent and must
// find the exact bytes received, which the libraries we looked at (dns-packet) do not expose.
export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, TSIG: 250 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;

/** Response codes (RFC 1035, RFC 2136 §2.2) by number, as named in server logs. */
export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Buffer;
}

export interface Message {
  id: number;
  opcode: number;
  /** Header flags beyond the opcode: QR, AA, TC, RD, RA. */
  response: boolean;
  truncated: boolean;
  rcode: number;
  questions: { name: string; type: number; class: number }[];
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

export interface ParsedMessage extends Message {
  /** Where each additional record starts in the raw bytes (TSIG verification cuts the message there). */
  additionalOffsets: number[];
}

/** A name in wire form, uncompressed and lower-cased (TSIG's canonical form needs both). */
export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  const parts: Buffer[] = [];
  if (trimmed !== '') {
    for (const label of trimmed.split('.')) {
      const bytes = Buffer.from(label.toLowerCase(), 'utf8');
      if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`"${name}" has a label that is empty or longer than 63 characters`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** TXT RDATA: the value in character-strings of at most 255 bytes each. */
export function txtData(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length || at === 0; at += 255) {
    const chunk = bytes.subarray(at, at + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
    if (bytes.length === 0) break;
  }
  return Buffer.concat(parts);
}

export function encodeRecord(record: ResourceRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(record.type, 0);
  fixed.writeUInt16BE(record.class, 2);
  fixed.writeUInt32BE(record.ttl, 4);
  fixed.writeUInt16BE(record.data.length, 8);
  return Buffer.concat([encodeName(record.name), fixed, record.data]);
}

export function encodeMessage(message: Message): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.id, 0);
  const flags = (message.response ? 0x8000 : 0) | ((message.opcode & 0xf) << 11) | (message.truncated ? 0x0200 : 0) | (message.rcode & 0xf);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(message.questions.length, 4);
  header.writeUInt16BE(message.answers.length, 6);
  header.writeUInt16BE(message.authority.length, 8);
  header.writeUInt16BE(message.additional.length, 10);
  const questions = message.questions.map((question) => {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(question.type, 0);
    tail.writeUInt16BE(question.class, 2);
    return Buffer.concat([encodeName(question.name), tail]);
  });
  return Buffer.concat([header, ...questions, ...[...message.answers, ...message.authority, ...message.additional].map(encodeRecord)]);
}

class Reader {
  constructor(
    readonly buffer: Buffer,
    public at = 0,
  ) {}

  need(bytes: number): void {
    if (this.at + bytes > this.buffer.length) throw new RangeError('the DNS answer ends early');
  }
  u8(): number {
    this.need(1);
    return this.buffer.readUInt8(this.at++);
  }
  u16(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.at);
    this.at += 2;
    return value;
  }
  u32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }
  bytes(length: number): Buffer {
    this.need(length);
    const value = this.buffer.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }
  /** A name, following compression pointers (bounded, so a pointer loop cannot hang us). */
  name(): string {
    const labels: string[] = [];
    let at = this.at;
    let jumped = false;
    for (let hops = 0; hops < 128; hops++) {
      if (at >= this.buffer.length) throw new RangeError('the DNS answer ends inside a name');
      const length = this.buffer[at]!;
      if ((length & 0xc0) === 0xc0) {
        if (at + 1 >= this.buffer.length) throw new RangeError('the DNS answer ends inside a name');
        if (!jumped) this.at = at + 2;
        jumped = true;
        at = ((length & 0x3f) << 8) | this.buffer[at + 1]!;
        continue;
      }
      if (length === 0) {
        if (!jumped) this.at = at + 1;
        return labels.join('.');
      }
      labels.push(this.buffer.toString('utf8', at + 1, at + 1 + length));
      at += 1 + length;
    }
    throw new RangeError('the DNS answer has a name that loops');
  }
}

function readRecord(reader: Reader): ResourceRecord {
  const name = reader.name();
  const type = reader.u16();
  const klass = reader.u16();
  const ttl = reader.u32();
  const data = reader.bytes(reader.u16());
  return { name, type, class: klass, ttl, data };
}

export function decodeMessage(buffer: Buffer): ParsedMessage {
  const reader = new Reader(buffer);
  const id = reader.u16();
  const flags = reader.u16();
  const counts = [reader.u16(), reader.u16(), reader.u16(), reader.u16()] as const;
  const questions = [];
  for (let i = 0; i < counts[0]; i++) questions.push({ name: reader.name(), type: reader.u16(), class: reader.u16() });
  const answers = [];
  for (let i = 0; i < counts[1]; i++) answers.push(readRecord(reader));
  const authority = [];
  for (let i = 0; i < counts[2]; i++) authority.push(readRecord(reader));
  const additional = [];
  const additionalOffsets = [];
  for (let i = 0; i < counts[3]; i++) {
    additionalOffsets.push(reader.at);
    additional.push(readRecord(reader));
  }
  return {
    id,
    opcode: (flags >> 11) & 0xf,
    response: (flags & 0x8000) !== 0,
    truncated: (flags & 0x0200) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
    authority,
    additional,
    additionalOffsets,
  };
}

/** Reads a name inside a record's data (SOA, TSIG algorithm), given the whole message for pointers. */
export function nameAt(message: Buffer, offset: number): { name: string; end: number } {
  const reader = new Reader(message, offset);
  const name = reader.name();
  return { name, end: reader.at };
}
