// One append-only log file, rotated by size (NAME → NAME.1 → … → NAME.N, the oldest dropped).
// Lines are batched and written every FLUSH_INTERVAL_MS or once FLUSH_BYTES have gathered, so a
// line costs the request path an array push; a write per event-loop turn cost a tenth of the
// proxy's CPU. The access log (JSON) and the combined log (nginx's format, for CrowdSec) use it.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Longest a line waits before it is written (a crash loses at most this much of the log). */
const FLUSH_INTERVAL_MS = 100;
/** Pending lines are written at once when they reach this size. */
const FLUSH_BYTES = 64 * 1024;

export interface RotationSettings {
  /** Rotate when the file reaches this many bytes. */
  maxFileBytes: number;
  /** Rotated files kept. */
  keepFiles: number;
}

export class LogFile {
  private stream: WriteStream | null = null;
  private opening: Promise<void> | null = null;
  private size = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private rotating = false;
  private closed = false;
  /** Settles when the last chunk handed to the stream is written (or failed). */
  private written: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly rotation: () => RotationSettings,
    private readonly report: (error: Error) => void,
  ) {}

  /** Queues one line (without its newline). */
  add(line: string): void {
    if (this.closed) return;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS).unref();
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
    const stream = this.stream;
    this.written = new Promise((resolve) => stream.write(chunk, () => resolve()));
    if (this.size >= this.rotation().maxFileBytes) void this.rotate();
  }

  private async open(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
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
      const keep = this.rotation().keepFiles;
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

  /**
   * Writes what is pending now and resolves once it is in the file (the log search reads the file,
   * and must see every request logged before it was asked). A failed write resolves too: it is reported.
   */
  async flushed(): Promise<void> {
    this.flush();
    while (this.opening || this.rotating) {
      await (this.opening ?? new Promise((r) => setTimeout(r, 5)));
      this.flush();
    }
    await this.written;
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
