// The access log: one JSON line per request in DATA_DIR/access.log, and, when log.combinedLog is
// on, the same requests in nginx's "combined" format in DATA_DIR/access-combined.log (for CrowdSec
// and other tools that read web server logs). Both are rotated by size (log-file.ts) and written
// in batches, so logging costs the request path a JSON.stringify and an array push.
// The most recent entries are also kept in memory for the UI's live log, and read back from the
// files at start (loadRecent), so the log still shows what happened before a restart.
import { join } from 'node:path';
import type { LogSettings } from '../../../shared/model.js';
import type { AccessLogEntry } from '../../../shared/status.js';
import { recentEntries } from './access-log-tail.js';
import { combinedLine, type CombinedRequest } from './combined-log.js';
import { LogFile } from './log-file.js';

/** Entries kept in memory for `recent()`. */
const RECENT_CAPACITY = 1000;

/** The combined log's file name in the data directory. */
export const COMBINED_LOG_FILE = 'access-combined.log';

export class AccessLog {
  readonly file: string;
  private settings: LogSettings;
  private readonly json: LogFile;
  private readonly combined: LogFile;
  private readonly ring: (AccessLogEntry | undefined)[] = new Array(RECENT_CAPACITY);
  private ringNext = 0;
  private ringCount = 0;
  /** Last write failure, reported once instead of once per request. */
  private failure: Error | null = null;

  constructor(options: { dir: string; settings: LogSettings; onError?: (error: Error) => void }) {
    this.file = join(options.dir, 'access.log');
    this.settings = options.settings;
    this.onError = options.onError ?? (() => {});
    const report = (error: Error) => this.report(error);
    this.json = new LogFile(this.file, () => this.settings, report);
    this.combined = new LogFile(join(options.dir, COMBINED_LOG_FILE), () => this.settings, report);
  }

  private readonly onError: (error: Error) => void;

  configure(settings: LogSettings): void {
    this.settings = settings;
  }

  /** Logs `entry`; `req` (the request, when there was one) gives the combined log its Referer and User-Agent. */
  write(entry: AccessLogEntry, req: CombinedRequest | null = null): void {
    this.remember(entry);
    if (this.settings.accessLog) this.json.add(JSON.stringify(entry));
    if (this.settings.combinedLog) {
      const line = combinedLine(entry, req);
      if (line !== null) this.combined.add(line);
    }
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

  private report(error: Error): void {
    if (this.failure?.message === error.message) return;
    this.failure = error;
    this.onError(error);
  }

  /** Writes the JSON lines still pending in memory to access.log; resolves once they are there. */
  flush(): Promise<void> {
    return this.json.flushed();
  }

  /** Writes what is pending and closes the files. */
  async close(): Promise<void> {
    await Promise.all([this.json.close(), this.combined.close()]);
  }
}
