// One series (a route, or one upstream of a route) on disk: a fixed-size file holding a header and
// two rings of slots, 10-second buckets for 24 h and 5-minute buckets for 30 days. Slot i of a ring
// holds the period p with p ≡ i (mod slots); the header says the newest period written. The file
// never grows, so the space is known up front (docs/history.md); a damaged file is noticed (its
// header's CRC, size or identity) and the series starts again in a fresh file.
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { decodeSlot, emptyBuckets, encodeSlot, slotBytes, type Bucket, type Buckets, type SeriesKind } from './history-codec.js';

export interface Resolution {
  /** Seconds per bucket. */
  seconds: number;
  /** Buckets kept. */
  slots: number;
}

/** 10-second buckets for 24 hours, 5-minute buckets for 30 days. */
export const RESOLUTIONS: readonly [Resolution, Resolution] = [
  { seconds: 10, slots: 8640 },
  { seconds: 300, slots: 8640 },
];

export const HEADER_BYTES = 512;
const MAGIC = 'GHHIST01';
const VERSION = 1;
const IDENTITY_MAX = 460;

export interface SeriesIdentity {
  kind: SeriesKind;
  routeId: string;
  /** The upstream as the route lists it; null for the route's own series. */
  url: string | null;
}

/** The file's size for a kind: the header plus both rings. Route: 346 112 bytes, upstream: 311 552. */
export function seriesFileBytes(kind: SeriesKind): number {
  return HEADER_BYTES + RESOLUTIONS.reduce((sum, resolution) => sum + resolution.slots * slotBytes(kind), 0);
}

/** A read ring: buckets by period from `first`; what is not present is a gap (not running, not written, damaged). */
export interface RingRead {
  first: number;
  buckets: Buckets;
}

export class SeriesFile {
  readonly slotBytes: number;
  /** Newest period written per resolution; 0: none yet. */
  readonly heads: [number, number];

  private constructor(
    readonly path: string,
    readonly identity: SeriesIdentity,
    /** Unix seconds the file was made: nothing before it is known. */
    readonly since: number,
    heads: [number, number],
  ) {
    this.slotBytes = slotBytes(identity.kind);
    this.heads = heads;
  }

  /**
   * Opens the series at `path`, or makes it. A file that is damaged or belongs to another series is
   * replaced, and `warn` says so; the rest of the history is untouched.
   */
  static open(path: string, identity: SeriesIdentity, nowSeconds: number, warn: (message: string) => void): SeriesFile {
    if (existsSync(path)) {
      const read = readHeader(path, identity);
      if (typeof read !== 'string') return new SeriesFile(path, identity, read.since, read.heads);
      warn(`gatehouse: the history file ${path} ${read}; this series starts again from now`);
    }
    const file = new SeriesFile(path, identity, nowSeconds, [0, 0]);
    const blank = Buffer.alloc(seriesFileBytes(identity.kind));
    file.header().copy(blank, 0);
    // Whole or not at all: a crash while making it leaves no half file.
    writeFileSync(`${path}.new`, blank);
    renameSync(`${path}.new`, path);
    return file;
  }

  /**
   * Writes buckets (each [resolution, period, bucket], periods rising per resolution; one older than
   * the head, when the clock went back, goes in its own slot and leaves the head be), marking the
   * periods skipped since the head as gaps (Gatehouse was not running), then the header. Slots are
   * written before the header names them: a crash in between loses only these buckets.
   */
  write(writes: readonly { r: 0 | 1; period: number; bucket: Bucket }[]): void {
    const fd = openSync(this.path, 'r+');
    try {
      for (const r of [0, 1] as const) {
        const slots = RESOLUTIONS[r].slots;
        const head = this.heads[r];
        // A period older than the ring holds (the clock set back further than it spans) would
        // overwrite a newer bucket's slot: it is left out.
        const mine = writes.filter((write) => write.r === r && (head === 0 || write.period > head - slots));
        if (mine.length === 0) continue;
        const first = (mine[0] as (typeof mine)[number]).period;
        if (head !== 0 && first > head + 1) this.writeGaps(fd, r, Math.max(head + 1, first - slots + 1), first);
        // Consecutive periods go out in one write, up to the ring's end.
        let index = 0;
        while (index < mine.length) {
          let end = index + 1;
          const start = (mine[index] as (typeof mine)[number]).period;
          while (end < mine.length && (mine[end] as (typeof mine)[number]).period === start + (end - index) && (start + (end - index)) % slots !== 0) end++;
          const data = Buffer.allocUnsafe((end - index) * this.slotBytes);
          for (let i = index; i < end; i++) {
            const write = mine[i] as (typeof mine)[number];
            encodeSlot(this.identity.kind, write.period, write.bucket, data, (i - index) * this.slotBytes);
          }
          writeSync(fd, data, 0, data.length, this.offset(r, start));
          const last = start + (end - index) - 1;
          const next = mine[end];
          if (next && next.period > last + 1) this.writeGaps(fd, r, Math.max(last + 1, next.period - slots + 1), next.period);
          if (last > this.heads[r]) this.heads[r] = last;
          index = end;
        }
      }
      writeSync(fd, this.header(), 0, HEADER_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  }

  /** The buckets of resolution `r` for periods [from, to); what is not known reads as null. */
  read(r: 0 | 1, from: number, to: number): RingRead {
    const { seconds, slots } = RESOLUTIONS[r];
    const head = this.heads[r];
    const buckets = emptyBuckets(Math.max(0, to - from));
    // Known: written (≤ head), still in the ring, and not before the file was made.
    const low = Math.max(from, head - slots + 1, Math.floor(this.since / seconds));
    const high = Math.min(to, head + 1);
    if (head === 0 || low >= high) return { first: from, buckets };
    const data = Buffer.allocUnsafe((high - low) * this.slotBytes);
    const fd = openSync(this.path, 'r');
    try {
      // The span may wrap past the ring's end: at most two reads.
      let period = low;
      while (period < high) {
        const index = period % slots;
        const count = Math.min(high - period, slots - index);
        readSync(fd, data, (period - low) * this.slotBytes, count * this.slotBytes, this.offset(r, period));
        period += count;
      }
    } finally {
      closeSync(fd);
    }
    for (let period = low; period < high; period++) decodeSlot(this.identity.kind, period, data, (period - low) * this.slotBytes, buckets, period - from);
    return { first: from, buckets };
  }

  private offset(r: 0 | 1, period: number): number {
    const ring = r === 0 ? 0 : RESOLUTIONS[0].slots * this.slotBytes;
    return HEADER_BYTES + ring + (period % RESOLUTIONS[r].slots) * this.slotBytes;
  }

  /** Periods [from, to) as gaps, in at most two writes. */
  private writeGaps(fd: number, r: 0 | 1, from: number, to: number): void {
    const slots = RESOLUTIONS[r].slots;
    let period = from;
    while (period < to) {
      const count = Math.min(to - period, slots - (period % slots));
      const data = Buffer.allocUnsafe(count * this.slotBytes);
      for (let i = 0; i < count; i++) encodeSlot(this.identity.kind, period + i, null, data, i * this.slotBytes);
      writeSync(fd, data, 0, data.length, this.offset(r, period));
      period += count;
    }
  }

  private header(): Buffer {
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt16LE(VERSION, 8);
    header.writeUInt16LE(this.slotBytes, 10);
    header.writeUInt32LE(RESOLUTIONS[0].slots, 12);
    header.writeUInt32LE(RESOLUTIONS[1].slots, 16);
    header.writeUInt32LE(this.since, 20);
    header.writeUInt32LE(this.heads[0], 24);
    header.writeUInt32LE(this.heads[1], 28);
    const identity = identityBytes(this.identity);
    header.writeUInt16LE(identity.length, 32);
    identity.copy(header, 34);
    header.writeUInt32LE(crc32(header.subarray(0, HEADER_BYTES - 4)), HEADER_BYTES - 4);
    return header;
  }
}

function identityBytes(identity: SeriesIdentity): Buffer {
  const bytes = Buffer.from(JSON.stringify([identity.kind, identity.routeId, identity.url]), 'utf8');
  // Long ids and URLs are cut: the file name tells series apart, the identity only confirms it.
  return bytes.subarray(0, IDENTITY_MAX);
}

/** The header's times, or why the file cannot be used. */
function readHeader(path: string, identity: SeriesIdentity): { since: number; heads: [number, number] } | string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return `could not be opened (${(error as Error).message})`;
  }
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const read = readSync(fd, header, 0, HEADER_BYTES, 0);
    const size = fstatSync(fd).size;
    if (read < HEADER_BYTES || header.toString('latin1', 0, 8) !== MAGIC) return 'is not a Gatehouse history file';
    if (header.readUInt32LE(HEADER_BYTES - 4) !== crc32(header.subarray(0, HEADER_BYTES - 4))) return 'has a damaged header';
    if (header.readUInt16LE(8) !== VERSION || header.readUInt16LE(10) !== slotBytes(identity.kind) || header.readUInt32LE(12) !== RESOLUTIONS[0].slots || header.readUInt32LE(16) !== RESOLUTIONS[1].slots) {
      return 'has another layout';
    }
    if (size !== seriesFileBytes(identity.kind)) return `has the wrong size (${size} bytes)`;
    const expected = identityBytes(identity);
    const length = header.readUInt16LE(32);
    if (length !== expected.length || !header.subarray(34, 34 + length).equals(expected)) return 'belongs to another series';
    return { since: header.readUInt32LE(20), heads: [header.readUInt32LE(24), header.readUInt32LE(28)] };
  } finally {
    closeSync(fd);
  }
}
