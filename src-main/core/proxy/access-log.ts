// The access log: one JSON line per request in DATA_DIR/access.log, rotated by size
// (access.log → access.log.1 → … → access.log.N, the oldest dropped). Lines are batched and written
// every FLUSH_INTERVAL_MS or once FLUSH_BYTES have gathered, so logging costs the request path a
// JSON.stringify and an array push; a write per event-loop turn cost a tenth of the proxy's CPU.
// The most recent entries are also kept in memory for the UI's live log, and read back from the
// files at start (loadRecent), so the log still shows what happened before a restart.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogSettings } from '../../../shared/model.js';
import type { AccessLogEntry } from '../../../shared/status.js';
import { recentEntries } from './access-log-tail.js';

/** Entries kept in memory for `recent()`. */
const RECENT_CAPACITY = 1000;
/** Longest a line waits before it is written (a crash loses at most this much of the log). */
const FLUSH_INTERVAL_MS = 100;
/** Pending lines are written at once when they reach this size. */
const FLUSH_BYTES = 64 * 1024;

export class AccessLog {
  readonly file: string;
  private settings: LogSettings;
  private stream: WriteStream | null = null;
  private opening: Promise<void> | null = null;
  private size = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private rotating = false;
  private closed = false;
  private readonly ring: (AccessLogEntry | undefined)[] = new Array(RECENT_CAPACITY);
  private ringNext = 0;
  private ringCount = 0;
  /** Last write failure, reported once instead of once per request. */
  private failure: Error | null = null;

  constructor(options: { dir: string; settings: LogSettings; onError?: (error: Error) => void }) {
    this.file = join(options.dir, 'access.log');
    this.settings = options.settings;
    this.onError = options.onError ?? (() => {});
  }

  private readonly onError: (error: Error) => void;

  configure(settings: LogSettings): void {
    this.settings = settings;
  }

  write(entry: AccessLogEntry): void {
    this.remember(entry);
    if (!this.settings.accessLog || this.closed) return;
    const line = JSON.stringify(entry);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  private remember(entry: AccessLogEntry): void {
    this.ring[this.ringNext] = entry;
    this.ringNext = (this.ringNext + 1) % RECENT_CAPACITY;
    if (this.ringCount < RECENT_CAPACITY) this.ringCount++;
  }

  /**
   * Reads the newest entries of access.log (and access.log.1 when it is short) into memory, before
   * any written since, so recent() has the requests from before a restart. Only the files' ends are
   * read. Resolves with how many were loaded; a log that cannot be read is reported, not thrown.
   */
  async loadRecent(): Promise<number> {
    let loaded: AccessLogEntry[];
    try {
      loaded = await recentEntries(this.file, RECENT_CAPACITY);
    } catch (error) {
      this.report(error as Error);
      return 0;
    }
    const since = this.recent(RECENT_CAPACITY);
    this.ringNext = 0;
    this.ringCount = 0;
    for (const entry of [...loaded, ...since].slice(-RECENT_CAPACITY)) this.remember(entry);
    return loaded.length;
  }

  /** The newest `limit` entries, oldest first. */
  recent(limit: number): AccessLogEntry[] {
    const count = Math.min(limit, this.ringCount);
    const out: AccessLogEntry[] = [];
    for (let i = count; i > 0; i--) {
      out.push(this.ring[(this.ringNext - i + RECENT_CAPACITY) % RECENT_CAPACITY] as AccessLogEntry);
    }
    return out;
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.length === 0 || this.rotating) return;
    if (!this.stream) {
      this.opening ??= this.open().then(
        () => {
          this.opening = null;
          this.flush();
        },
        (error: Error) => {
          this.opening = null;
          this.pending = [];
          this.report(error);
        },
      );
      return;
    }
    const chunk = this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingBytes = 0;
    this.size += Buffer.byteLength(chunk);
    this.stream.write(chunk);
    if (this.size >= this.settings.maxFileBytes) void this.rotate();
  }

  private async open(): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    this.size = await stat(this.file).then((s) => s.size, () => 0);
    const stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    stream.on('error', (error) => {
      // A failed stream is dead: drop it so the next flush reopens the file (a disk that was full,
      // or a log directory that was moved, recovers without a restart).
      if (this.stream === stream) this.stream = null;
      this.report(error);
    });
    this.stream = stream;
  }

  private async rotate(): Promise<void> {
    const stream = this.stream;
    if (!stream || this.rotating) return;
    this.rotating = true;
    this.stream = null;
    try {
      await new Promise<void>((resolve) => stream.end(resolve));
      const keep = this.settings.keepFiles;
      await rm(`${this.file}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) {
        await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch(() => {});
      }
      await rename(this.file, `${this.file}.1`);
    } catch (error) {
      this.report(error as Error);
    } finally {
      this.rotating = false;
      this.size = 0;
      if (!this.closed) this.flush();
    }
  }

  private report(error: Error): void {
    if (this.failure?.message === error.message) return;
    this.failure = error;
    this.onError(error);
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    this.flush();
    while (this.opening || this.rotating) {
      await (this.opening ?? new Promise((r) => setTimeout(r, 5)));
      this.flush();
    }
    this.closed = true;
    const stream = this.stream;
    this.stream = null;
    if (stream) await new Promise<void>((resolve) => stream.end(resolve));
  }
}
