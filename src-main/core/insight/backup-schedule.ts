// Scheduled backups: a file in the chosen folder every `everyHours`, the oldest of Gatehouse's own
// files beyond `keep` removed (only names this module writes: gatehouse-YYYYMMDD-HHMMSS[-n].gatehouse-backup),
// the last run remembered in DATA_DIR/backups-last-run.json. After a restart the next run counts
// from the newest backup in the folder or the last run, whichever is later, so a stopped machine
// backs up soon after it starts again rather than waiting a whole period.
import { constants, promises as fs } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ApiError } from '../../../shared/api.js';
import type { BackupFileInfo, BackupSchedule, BackupsOverview } from '../../../shared/insight.js';
import { writeFileDurably } from '../settings/durable-file.js';

export const BACKUP_FILE_PATTERN = /^gatehouse-(\d{8})-(\d{6})(?:-(\d+))?\.gatehouse-backup$/;
export const LAST_RUN_FILE = 'backups-last-run.json';
/** How long one hour of the schedule lasts, ms. Tests shorten it. Default: 3 600 000. */
export const HOUR_MS = 60 * 60 * 1000;
/** After a failed run, the next try comes after this many schedule hours at most. Default: 1. */
const RETRY_HOURS = 1;
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** gatehouse-YYYYMMDD-HHMMSS.gatehouse-backup (UTC), numbered when the second is taken. */
export function backupFileName(now: Date, taken: ReadonlySet<string> = new Set()): string {
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? `gatehouse-${stamp}.gatehouse-backup` : `gatehouse-${stamp}-${n}.gatehouse-backup`;
    if (!taken.has(name)) return name;
  }
}

function timeOfName(name: string): number {
  const match = BACKUP_FILE_PATTERN.exec(name);
  if (!match) return 0;
  const [d, t] = [match[1]!, match[2]!];
  return Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +t.slice(0, 2), +t.slice(2, 4), +t.slice(4, 6)) + Number(match[3] ?? 1);
}

/** Gatehouse's backups in `folder`, newest first; other files are never listed (nor pruned). */
export async function listBackups(folder: string): Promise<BackupFileInfo[]> {
  const names = (await fs.readdir(folder)).filter((name) => BACKUP_FILE_PATTERN.test(name));
  const infos = await Promise.all(
    names.map(async (name) => {
      const stat = await fs.stat(join(folder, name)).catch(() => null);
      return stat?.isFile() ? { name, bytes: stat.size, time: stat.mtime.toISOString(), order: timeOfName(name) } : null;
    }),
  );
  return infos
    .filter((info) => info !== null)
    .sort((a, b) => b.order - a.order || b.time.localeCompare(a.time))
    .map(({ order: _order, ...info }) => info);
}

/** Refuses a folder that is not absolute, missing, not a folder, or not writable, with the fix. */
export async function checkFolder(folder: string): Promise<void> {
  const issue = (message: string) => new ApiError('invalid_input', `${message}.`, { issues: [{ path: 'folder', message }] });
  if (!isAbsolute(folder)) throw issue(`choose a whole folder path, such as /srv/backups (${folder} is relative)`);
  const stat = await fs.stat(folder).catch(() => null);
  if (!stat) throw issue(`the folder ${folder} does not exist on this machine; create it first`);
  if (!stat.isDirectory()) throw issue(`${folder} is a file, not a folder`);
  try {
    await fs.access(folder, constants.W_OK | constants.X_OK);
  } catch {
    throw issue(`Gatehouse may not write in ${folder}; give the user it runs as write access, or choose another folder`);
  }
}

/** Removes the oldest of Gatehouse's backups beyond `keep`; returns the names removed. */
export async function pruneBackups(folder: string, keep: number): Promise<string[]> {
  const old = (await listBackups(folder)).slice(keep);
  for (const file of old) await fs.rm(join(folder, file.name), { force: true });
  return old.map((file) => file.name);
}

type LastRun = NonNullable<BackupsOverview['lastRun']>;

export interface BackupSchedulerOptions {
  dataDir: string;
  schedule: () => BackupSchedule;
  /** The stored passphrase, or null. */
  passphrase: () => Promise<string | null>;
  /** Makes a backup file's bytes (the gateway queues it with its changes). */
  makeBackup: (passphrase: string) => Promise<Buffer>;
  now?: () => Date;
  hourMs?: number;
}

export class BackupScheduler {
  readonly #options: BackupSchedulerOptions;
  readonly #now: () => Date;
  readonly #hourMs: number;
  #lastRun: LastRun | null = null;
  #newestFile: number | null = null;
  #nextRun: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(options: BackupSchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#hourMs = options.hourMs ?? HOUR_MS;
  }

  get lastRun(): LastRun | null {
    return this.#lastRun;
  }

  get nextRun(): string | null {
    return this.#nextRun === null ? null : new Date(this.#nextRun).toISOString();
  }

  /** Reads the last run and the folder's newest backup, then sets the timer. */
  async start(): Promise<void> {
    try {
      const text = await fs.readFile(join(this.#options.dataDir, LAST_RUN_FILE), 'utf8');
      const parsed = JSON.parse(text) as LastRun;
      if (typeof parsed.time === 'string') this.#lastRun = { time: parsed.time, file: parsed.file ?? null, error: parsed.error ?? null };
    } catch {
      this.#lastRun = null;
    }
    await this.reschedule();
  }

  /** The schedule changed (or a run ended): computes the next run and sets the one timer. */
  async reschedule(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#nextRun = null;
    const schedule = this.#options.schedule();
    if (this.#closed || !schedule.enabled || schedule.folder === null) return;
    const newest = await listBackups(schedule.folder).catch(() => []);
    this.#newestFile = newest[0] ? Date.parse(newest[0].time) : null;
    const lastTime = this.#lastRun ? Date.parse(this.#lastRun.time) : null;
    const failed = this.#lastRun?.error != null;
    const candidates: number[] = [];
    if (this.#newestFile !== null) candidates.push(this.#newestFile + schedule.everyHours * this.#hourMs);
    if (lastTime !== null) candidates.push(lastTime + (failed ? Math.min(RETRY_HOURS, schedule.everyHours) : schedule.everyHours) * this.#hourMs);
    const now = this.#now().getTime();
    // The later of the two: a run that failed after the newest file still waits its retry time.
    const next = candidates.length === 0 ? now : Math.max(...candidates);
    this.#nextRun = Math.max(next, now);
    const delay = Math.min(Math.max(0, this.#nextRun - now), MAX_TIMER_DELAY_MS);
    this.#timer = setTimeout(() => void this.runNow().catch(() => undefined), delay).unref();
  }

  /** Writes one backup to the folder now, prunes, records the run, and sets the next timer. */
  runNow(): Promise<void> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #run(): Promise<void> {
    const schedule = this.#options.schedule();
    const time = this.#now();
    let run: LastRun;
    try {
      if (schedule.folder === null) throw new Error('no folder is chosen');
      await checkFolder(schedule.folder);
      const passphrase = await this.#options.passphrase();
      if (passphrase === null) throw new Error('no passphrase is set for scheduled backups; set one on the Backup page');
      const content = await this.#options.makeBackup(passphrase);
      const taken = new Set((await listBackups(schedule.folder)).map((file) => file.name));
      const name = backupFileName(time, taken);
      // Temp file + fsync + rename: a half-written backup never carries a backup's name.
      await writeFileDurably(join(schedule.folder, name), content, { mode: 0o600 });
      await pruneBackups(schedule.folder, schedule.keep);
      run = { time: time.toISOString(), file: name, error: null };
    } catch (error) {
      run = { time: time.toISOString(), file: null, error: error instanceof Error ? error.message : String(error) };
      console.error(`gatehouse: the scheduled backup failed: ${run.error}`);
    }
    this.#lastRun = run;
    if (this.#closed) return;
    await writeFileDurably(join(this.#options.dataDir, LAST_RUN_FILE), `${JSON.stringify(run, null, 2)}\n`, { mode: 0o600 }).catch(() => undefined);
    await this.reschedule();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }
}
