// Reading back the newest access-log entries after a restart, so the UI's log does not start empty.
// Only the end of each file is read (a log may be 10 MiB or more, and a start must stay quick), and
// anything that is not a whole, well-formed entry is skipped: the last line of a file written up
// to a crash can be cut short, and a file edited by hand can hold anything.
import { open } from 'node:fs/promises';
import type { AccessLogEntry } from '../../../shared/status.js';

/**
 * Bytes read from the end of one file. An entry is about 200–400 bytes, so this holds a thousand
 * entries with room to spare. Default: 512 KiB.
 */
export const TAIL_BYTES = 512 * 1024;

const STRING_FIELDS = ['time', 'client', 'host', 'method', 'path'] as const;
const NUMBER_FIELDS = ['status', 'bytes', 'durationMs'] as const;
const NULLABLE_STRING_FIELDS = ['routeId', 'upstream', 'error', 'detail'] as const;

/** An entry as the log writes it; older lines without a field this version has are skipped. */
export function isEntry(value: unknown): value is AccessLogEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return (
    STRING_FIELDS.every((field) => typeof record[field] === 'string') &&
    NUMBER_FIELDS.every((field) => typeof record[field] === 'number' && Number.isFinite(record[field])) &&
    NULLABLE_STRING_FIELDS.every((field) => record[field] === null || typeof record[field] === 'string')
  );
}

/** The last `maxBytes` of a file (all of it when smaller), and whether that is the whole file; null when it does not exist. */
async function readTail(file: string, maxBytes: number): Promise<{ text: string; whole: boolean } | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, size - length + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { text: buffer.subarray(0, filled).toString('utf8'), whole: length === size };
  } finally {
    await handle.close();
  }
}

/** The newest (at most `limit`) well-formed entries at the end of one file, oldest first. */
export async function tailEntries(file: string, limit: number, maxBytes = TAIL_BYTES): Promise<AccessLogEntry[]> {
  const tail = await readTail(file, maxBytes);
  if (!tail) return [];
  const lines = tail.text.split('\n');
  // A read that starts inside the file starts inside a line: that piece is not an entry.
  if (!tail.whole) lines.shift();
  const entries: AccessLogEntry[] = [];
  for (let i = lines.length - 1; i >= 0 && entries.length < limit; i--) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isEntry(parsed)) entries.push(parsed);
    } catch {
      // A cut-short last line, or not JSON at all: not an entry.
    }
  }
  return entries.reverse();
}

/**
 * The newest `limit` entries of `file` and, when it holds fewer (just rotated), of `file.1` before
 * them; oldest first.
 */
export async function recentEntries(file: string, limit: number, maxBytes = TAIL_BYTES): Promise<AccessLogEntry[]> {
  const current = await tailEntries(file, limit, maxBytes);
  if (current.length >= limit) return current;
  const previous = await tailEntries(`${file}.1`, limit - current.length, maxBytes);
  return [...previous, ...current];
}
