// Searching the access log on disk: DATA_DIR/access.log and its rotated files access.log.1 … N,
// newest first, so a search finds the requests from before a restart. The files are read from the
// end backwards in chunks (a log file may be 10 MiB and a query must stay quick), a query stops
// after `limit` matches or SCAN_BYTES of log, and its `next` cursor continues with older lines.
// Lines that do not parse (a line cut short by a crash, a file edited by hand) are skipped.
//
// The cursor names a file by its inode and creation time, not its name: rotation renames access.log
// to access.log.1, so a page read before a rotation continues in the same file after it (and an
// inode number reused by a new access.log after the old file was dropped is not mistaken for it).
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { ApiError } from '../../../shared/api.js';
import type { LogSearchInput, LogSearchResult } from '../../../shared/insight.js';
import type { AccessLogEntry } from '../../../shared/status.js';
import { isEntry } from '../proxy/access-log-tail.js';

/** Bytes read from a file at a time. */
const CHUNK_BYTES = 64 * 1024;
/** Most log bytes one query reads before it answers with what it found and a `next`. Default: 16 MiB (about 50 000 lines). */
export const SCAN_BYTES = 16 * 1024 * 1024;
/** A line longer than this is not an entry the log wrote; it is skipped without being held. */
const MAX_LINE_BYTES = 256 * 1024;

/** The search as the API parsed it (LogSearchInputSchema's output). */
export type LogSearchQuery = Omit<LogSearchInput, 'limit'> & { limit: number };

/** Where the log is, and how to get what is still pending in memory onto disk first. */
export interface LogSearchSource {
  /** DATA_DIR/access.log; rotated files are FILE.1 … FILE.N beside it. */
  file: string;
  /** Writes the lines still waiting in memory, so the search sees every request logged so far. */
  flush: () => Promise<void>;
}

interface Matcher {
  matches: (entry: AccessLogEntry) => boolean;
  /** A string every matching line contains, checked before parsing (cheap rejection); null when none. */
  needle: string | null;
  fromMs: number | null;
}

function fieldError(field: string, message: string): ApiError {
  return new ApiError('invalid_input', `${field}: ${message}`, { issues: [{ path: field, message }] });
}

/** [low, high] of a status filter: "404", "4xx" or "500-504". */
export function statusRange(status: string): [number, number] {
  const value = status.trim();
  if (/^[1-5]xx$/.test(value)) {
    const base = Number(value[0]) * 100;
    return [base, base + 99];
  }
  const range = /^(\d{3})-(\d{3})$/.exec(value);
  if (range) {
    const [low, high] = [Number(range[1]), Number(range[2])];
    if (low > high) throw fieldError('status', `the range ${value} starts after it ends; write the lower code first, such as ${high}-${low}`);
    return [low, high];
  }
  if (/^\d{3}$/.test(value)) return [Number(value), Number(value)];
  throw fieldError('status', 'a status is a code (404), a class (5xx) or a range (500-504)');
}

function timeMs(field: 'from' | 'to', value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw fieldError(field, `${field} is an ISO time, such as 2026-12-06T10:00:00Z`);
  return ms;
}

/** Two lower-case addresses are one client (an IPv4-mapped IPv6 address is its IPv4 one). */
function sameAddress(logged: string, wanted: string): boolean {
  const strip = (address: string) => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);
  return strip(logged) === strip(wanted);
}

function matcher(query: LogSearchQuery): Matcher {
  const fromMs = timeMs('from', query.from);
  const toMs = timeMs('to', query.to);
  if (fromMs !== null && toMs !== null && fromMs >= toMs) {
    throw fieldError('from', `from (${query.from}) must be before to (${query.to}); the range is [from, to)`);
  }
  const tests: ((entry: AccessLogEntry) => boolean)[] = [];
  const { routeId, path } = query;
  const client = query.client?.toLowerCase();
  const host = query.host?.toLowerCase();
  if (routeId) tests.push((entry) => entry.routeId === routeId);
  if (client) {
    // A whole address finds that client only (192.168.1.1 is not 192.168.1.10); the start of one
    // (192.168.1., fd00:) finds every address it begins.
    if (isIP(client) !== 0) tests.push((entry) => sameAddress(entry.client.toLowerCase(), client));
    else tests.push((entry) => entry.client.toLowerCase().startsWith(client));
  }
  if (query.status) {
    const [low, high] = statusRange(query.status);
    tests.push((entry) => entry.status >= low && entry.status <= high);
  }
  if (path) tests.push((entry) => entry.path.includes(path));
  if (host) tests.push((entry) => entry.host.toLowerCase().includes(host));
  if (fromMs !== null || toMs !== null) {
    tests.push((entry) => {
      const ms = Date.parse(entry.time);
      return Number.isFinite(ms) && (fromMs === null || ms >= fromMs) && (toMs === null || ms < toMs);
    });
  }
  return {
    matches: (entry) => tests.every((test) => test(entry)),
    // The route id as JSON writes it: a line without it cannot be one of the route's entries.
    needle: routeId ? JSON.stringify(routeId) : null,
    fromMs,
  };
}

// ---------------------------------------------------------------------------------------------
// The cursor: "c1.INODE.BIRTH.OFFSET": continue with the lines that start before OFFSET in that
// file (BIRTH: its creation time in ns, 0 where the file system keeps none), then the older files.

interface Cursor {
  /** The file's identity: "INODE.BIRTH". */
  id: string;
  offset: number;
}

function encodeCursor(cursor: Cursor): string {
  return `c1.${cursor.id}.${cursor.offset}`;
}

function decodeCursor(value: string): Cursor {
  const match = /^c1\.(\d{1,30}\.\d{1,30})\.(\d{1,16})$/.exec(value.trim());
  if (!match) throw fieldError('before', 'before takes the `next` of a previous search, as it was returned');
  return { id: match[1]!, offset: Number(match[2]) };
}

// ---------------------------------------------------------------------------------------------
// The files

interface LogFileHandle {
  handle: FileHandle;
  /** "INODE.BIRTH", as the cursor names it. */
  id: string;
  size: number;
  mtimeMs: number;
}

/** access.log, access.log.1, … in age order (newest first), opened at once so a rotation during the search moves nothing under it. */
async function openLogFiles(file: string): Promise<LogFileHandle[]> {
  const name = basename(file);
  let names: string[];
  try {
    names = await readdir(dirname(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\.(\\d{1,3}))?$`);
  const ordered = names
    .map((candidate) => ({ candidate, match: pattern.exec(candidate) }))
    .filter((item) => item.match !== null)
    .map((item) => ({ path: join(dirname(file), item.candidate), age: item.match![1] === undefined ? 0 : Number(item.match![1]) }))
    .sort((a, b) => a.age - b.age);
  const files: LogFileHandle[] = [];
  const seen = new Set<bigint>();
  for (const { path } of ordered) {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      continue; // rotated away between the listing and the open
    }
    const stats = await handle.stat({ bigint: true });
    // A rotation between two opens can show one file under two names: read it once.
    if (seen.has(stats.ino) || !stats.isFile()) {
      await handle.close();
      continue;
    }
    seen.add(stats.ino);
    files.push({ handle, id: `${stats.ino}.${stats.birthtimeNs}`, size: Number(stats.size), mtimeMs: Number(stats.mtimeMs) });
  }
  return files;
}

/**
 * The whole lines of [0, end) of a file, last first, each with the offset where it starts. When
 * `end` is the file's size, bytes after the last newline are a line still being written: left out.
 */
async function* linesBackward(handle: FileHandle, end: number, endIsLineStart: boolean): AsyncGenerator<{ line: Buffer | null; start: number; bytes: number }> {
  let pos = end;
  /** Bytes from `pos` up to and including the newline of a line whose start is before `pos`. */
  let carry: Buffer = Buffer.alloc(0);
  let oversized = false;
  let trailingDropped = endIsLineStart;
  while (pos > 0) {
    const size = Math.min(CHUNK_BYTES, pos);
    pos -= size;
    const chunk = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(chunk, filled, size - filled, pos + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    let data = carry.length > 0 ? Buffer.concat([chunk.subarray(0, filled), carry]) : chunk.subarray(0, filled);
    if (!trailingDropped) {
      const last = data.lastIndexOf(10);
      if (last < 0) {
        carry = Buffer.alloc(0); // one unfinished line so far: nothing to keep
        continue;
      }
      data = data.subarray(0, last + 1);
      trailingDropped = true;
    }
    // data covers [pos, pos + data.length) and ends with a newline (or is empty).
    let lineEnd = data.length - 1;
    while (lineEnd >= 0) {
      const previous = lineEnd === 0 ? -1 : data.lastIndexOf(10, lineEnd - 1);
      if (previous < 0 && pos > 0) break; // the line starts in an earlier chunk
      const start = previous + 1;
      yield { line: oversized ? null : data.subarray(start, lineEnd), start: pos + start, bytes: lineEnd - start + 1 };
      oversized = false;
      lineEnd = previous;
    }
    carry = lineEnd >= 0 ? data.subarray(0, lineEnd + 1) : Buffer.alloc(0);
    if (carry.length > MAX_LINE_BYTES) {
      oversized = true;
      // Keep only the newline, so the line's start is still found without holding it.
      carry = carry.subarray(carry.length - 1);
    }
  }
}

function parseLine(line: Buffer, needle: string | null): AccessLogEntry | null {
  const text = line.toString('utf8');
  if (needle !== null && !text.includes(needle)) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return isEntry(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Searches the access log: newest matches first, at most `limit`; `before` continues a previous
 * search. Throws invalid_input naming the field for a bad status range, time range or cursor.
 */
export async function searchAccessLog(query: LogSearchQuery, source: LogSearchSource, scanBytes = SCAN_BYTES): Promise<LogSearchResult> {
  const match = matcher(query);
  const cursor = query.before === undefined ? null : decodeCursor(query.before);
  await source.flush();
  const files = await openLogFiles(source.file);
  const entries: AccessLogEntry[] = [];
  let scanned = 0;
  let readBytes = 0;
  try {
    let index = 0;
    if (cursor) {
      index = files.findIndex((file) => file.id === cursor.id);
      // The file the cursor points into was rotated away: so was everything older.
      if (index < 0) return { entries, next: null, scanned };
    }
    for (; index < files.length; index++) {
      const file = files[index]!;
      // Entries are written after they arrive: a file last written before `from` holds none after it, nor do older ones.
      if (match.fromMs !== null && file.mtimeMs < match.fromMs) break;
      const resume = cursor !== null && file.id === cursor.id;
      const end = resume ? Math.min(cursor.offset, file.size) : file.size;
      for await (const { line, start, bytes } of linesBackward(file.handle, end, resume)) {
        scanned++;
        readBytes += bytes;
        const entry = line === null ? null : parseLine(line, match.needle);
        if (entry && match.matches(entry)) entries.push(entry);
        const full = entries.length >= query.limit;
        if (full || readBytes >= scanBytes) {
          const more = start > 0 || files.slice(index + 1).some((older) => match.fromMs === null || older.mtimeMs >= match.fromMs);
          return { entries, next: more ? encodeCursor({ id: file.id, offset: start }) : null, scanned };
        }
      }
    }
    return { entries, next: null, scanned };
  } finally {
    await Promise.all(files.map((file) => file.handle.close()));
  }
}
