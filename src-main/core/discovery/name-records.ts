// The records a published name is made of, and the RFC 6762 rules that compare them: pure functions
// the name publisher uses, tested alone. Only what a host name needs: A and AAAA, the probe query
// (with the QU bit, which multicast-dns cannot encode), the simultaneous-probe tiebreak, and a free
// name to suggest after a conflict.
import { isIPv4, isIPv6 } from 'node:net';
import type { MdnsQuestion, MdnsRecord } from './mdns-socket.js';

/** RFC 6762 §10: records about a host name live 120 s in caches. */
export const HOST_RECORD_TTL_S = 120;
/** RFC 6762 §6.7: answers to a legacy (one-shot, not from port 5353) query carry at most 10 s. */
export const LEGACY_TTL_S = 10;

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_ANY = 255;
const CLASS_IN = 1;
/** RFC 6762 §5.4 (questions: unicast response wanted) and §10.2 (records: cache flush) share this bit. */
const TOP_BIT = 0x8000;

export function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

/** An A or AAAA record (a host name's only records); assignable to what multicast-dns sends. */
export interface AddressRecord {
  name: string;
  type: 'A' | 'AAAA';
  ttl: number;
  class: 'IN';
  flush: boolean;
  data: string;
}

/** The address records in a received section, as AddressRecords; other types are left out. */
export function addressRecordsIn(records: readonly MdnsRecord[]): AddressRecord[] {
  return records.flatMap((record) =>
    record.type === 'A' || record.type === 'AAAA' ? [{ name: record.name, type: record.type, ttl: record.ttl ?? 0, class: 'IN' as const, flush: record.flush ?? false, data: String(record.data) }] : [],
  );
}

/** The A and AAAA records for `name`. Unique records: `flush` sets the cache-flush bit (RFC 6762 §10.2). */
export function addressRecords(name: string, addresses: readonly string[], ttl: number, flush: boolean): AddressRecord[] {
  return addresses
    .filter((address) => isIPv4(address) || isIPv6(address))
    .map((address) => ({ name, type: isIPv4(address) ? ('A' as const) : ('AAAA' as const), ttl, class: 'IN' as const, flush, data: address }));
}

/**
 * Whether a question asks for a unicast response (the QU bit, RFC 6762 §5.4). dns-packet 5 decodes
 * a class with that bit as "UNKNOWN_32769" instead of setting a flag, so it is read back from there.
 */
export function wantsUnicast(question: MdnsQuestion): boolean {
  const match = /^UNKNOWN_(\d+)$/.exec(String(question.class ?? ''));
  return match !== null && (Number(match[1]) & TOP_BIT) !== 0;
}

/** Whether the question asks about `name` for a type a host name answers (A, AAAA or ANY). */
export function asksForAddress(question: MdnsQuestion, name: string): boolean {
  return sameName(question.name, name) && ['A', 'AAAA', 'ANY'].includes(String(question.type));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  let headGroups = groups(head);
  let tailGroups = groups(tail);
  // An embedded IPv4 address ("::ffff:10.0.0.1") is the last two groups.
  const last = (address.includes('::') ? tailGroups : headGroups).at(-1);
  if (last && isIPv4(last)) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    const replacement = [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    if (address.includes('::')) tailGroups = [...tailGroups.slice(0, -1), ...replacement];
    else headGroups = [...headGroups.slice(0, -1), ...replacement];
  }
  const missing = 8 - headGroups.length - tailGroups.length;
  const all = [...headGroups, ...Array<string>(address.includes('::') ? missing : 0).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group || '0', 16), index * 2));
  return bytes;
}

/** An address record's rdata as it goes on the wire. */
export function rdata(record: { type: string; data: unknown }): Buffer {
  const address = String(record.data);
  if (record.type === 'A') return Buffer.from(address.split('.').map(Number));
  if (record.type === 'AAAA') return ipv6Bytes(address);
  return Buffer.from(address);
}

const typeNumber = (type: string) => (type === 'A' ? TYPE_A : type === 'AAAA' ? TYPE_AAAA : 0);

function compareRecords(a: AddressRecord, b: AddressRecord): number {
  return typeNumber(a.type) - typeNumber(b.type) || Buffer.compare(rdata(a), rdata(b));
}

/**
 * The simultaneous-probe tiebreak (RFC 6762 §8.2): both sides' records, each sorted by class, type
 * and rdata, compared pair by pair; the first difference decides, and a list that runs out first
 * loses. Positive: ours win (keep probing); negative: theirs win (wait a second, probe again); zero:
 * the same records (our own probe looped back, or an identical claim), which is no conflict.
 */
export function tiebreak(ours: readonly AddressRecord[], theirs: readonly AddressRecord[]): number {
  const a = [...ours].sort(compareRecords);
  const b = [...theirs].sort(compareRecords);
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const order = compareRecords(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([Buffer.byteLength(label)]), Buffer.from(label)])), Buffer.from([0])]);
}

/**
 * A probe (RFC 6762 §8.1): "ANY `name`?" with the records we propose in the authority section, for
 * other hosts' tiebreaks. It also asks for A and AAAA: python-zeroconf, for one, answers an ANY
 * question about a host name with nothing, and would never defend its name against a probe that
 * asked only that. `unicast` sets the QU bit, as the first probe should.
 */
export function encodeProbe(name: string, proposed: readonly AddressRecord[], unicast: boolean): Buffer {
  const questionTypes = [TYPE_ANY, TYPE_A, TYPE_AAAA];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(questionTypes.length, 4);
  header.writeUInt16BE(proposed.length, 8); // authority records
  const questions = questionTypes.map((type) => {
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(type, 0);
    fixed.writeUInt16BE(CLASS_IN | (unicast ? TOP_BIT : 0), 2);
    return Buffer.concat([encodeName(name), fixed]);
  });
  const records = proposed.map((record) => {
    const data = rdata(record);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(typeNumber(record.type), 0);
    fixed.writeUInt16BE(CLASS_IN, 2); // no cache-flush bit in a probe's authority section (§10.2)
    fixed.writeUInt32BE(record.ttl, 4);
    fixed.writeUInt16BE(data.length, 8);
    return Buffer.concat([encodeName(record.name), fixed, data]);
  });
  return Buffer.concat([header, ...questions, ...records]);
}

/**
 * A name to suggest instead of a taken one: "jellyfin.local" → "jellyfin-2.local" (then -3 …),
 * "jellyfin-2.local" → "jellyfin-3.local", "tv.den.local" → "tv-2.den.local"; the first that
 * `isTaken` does not claim.
 */
export function suggestName(name: string, isTaken: (candidate: string) => boolean): string {
  const [first = '', ...rest] = name.split('.');
  const match = /^(.*?)-(\d+)$/.exec(first);
  const base = match ? match[1]! : first;
  let counter = match ? Number(match[2]) + 1 : 2;
  for (;;) {
    const candidate = [`${base}-${counter}`, ...rest].join('.');
    if (!isTaken(candidate)) return candidate;
    counter += 1;
  }
}
