// The settings store: the one owner of settings.json. Every change goes through update(), one at a
// time, and is acknowledged only once it is on disk, so a crash at any moment loses nothing the user
// was told was saved. Plain Node: the Electron shell and the headless server both use it.
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { SettingsSchema, type Settings } from '../../../shared/model.js';
import type { Problem } from '../../../shared/status.js';
import { removeLeftoverTempFiles, writeFileDurably } from './durable-file.js';
import { loadSettings, settingsFiles, type SettingsFiles } from './load.js';
import { readOnlyMessage } from './notices.js';

/** The settings file sits next to the CA key and API token: readable by the owner only. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** update() was refused because the file belongs to a newer Gatehouse. */
export class SettingsReadOnlyError extends Error {
  override readonly name = 'SettingsReadOnlyError';
}

export class SettingsStore {
  readonly path: string;
  readonly notice: Problem | null;
  readonly #files: SettingsFiles;
  readonly #newerVersion: number | null;
  #current: Settings;
  /** The tail of the write queue; never rejects, so one failed update does not block the next. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(files: SettingsFiles, settings: Settings, notice: Problem | null, newerVersion: number | null) {
    this.#files = files;
    this.path = files.main;
    this.notice = notice;
    this.#newerVersion = newerVersion;
    this.#current = deepFreeze(settings);
  }

  /** Loads (or creates with defaults) DATA_DIR/settings.json. Never throws for a bad file: see notice. Throws only if the directory cannot be created/read (with a clear message). */
  static async open(dataDir: string): Promise<SettingsStore> {
    const dir = resolve(dataDir);
    await ensureDataDir(dir);
    const files = settingsFiles(dir);
    await removeLeftoverTempFiles(files.main);
    await removeLeftoverTempFiles(files.backup);
    const loaded = await loadSettings(files);
    if (loaded.writeNow) await writeAtOpen(files, loaded.settings);
    return new SettingsStore(files, loaded.settings, loaded.notice, loaded.newerVersion);
  }

  /** The settings as last acknowledged (what is on disk). Frozen: change them through update(). */
  get current(): Settings {
    return this.#current;
  }

  /** Applies fn to a copy of the current settings, validates the result with SettingsSchema (throwing the ZodError unchanged if invalid, writing nothing), writes it atomically, and resolves with the new settings once durable. Serialized with other updates. Rejects if the store is read-only (newer version) with a clear Error. */
  update(fn: (draft: Settings) => Settings | void): Promise<Settings> {
    // fn runs only when its turn comes, so it sees every earlier update, not a stale snapshot.
    const result = this.#queue.then(() => this.#apply(fn));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Waits for queued writes. */
  async flush(): Promise<void> {
    await this.#queue;
  }

  /** Throws SettingsReadOnlyError when the file belongs to a newer Gatehouse (every update would). */
  assertWritable(): void {
    if (this.#newerVersion !== null) throw new SettingsReadOnlyError(readOnlyMessage(this.path, this.#newerVersion));
  }

  async #apply(fn: (draft: Settings) => Settings | void): Promise<Settings> {
    this.assertWritable();
    const draft = structuredClone(this.#current);
    const next = SettingsSchema.parse(fn(draft) ?? draft);
    await writeSettings(this.#files, next);
    this.#current = deepFreeze(next);
    return this.#current;
  }
}

async function ensureDataDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
    await fs.access(dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw new Error(`Cannot use the data directory ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

async function writeAtOpen(files: SettingsFiles, settings: Settings): Promise<void> {
  try {
    await writeSettings(files, settings);
  } catch (error) {
    throw new Error(`Cannot write the settings file ${files.main}: ${(error as Error).message}`, { cause: error });
  }
}

function writeSettings(files: SettingsFiles, settings: Settings): Promise<void> {
  // Indented and newline-terminated: people read, diff and hand-edit this file.
  const text = `${JSON.stringify(settings, null, 2)}\n`;
  return writeFileDurably(files.main, text, { mode: FILE_MODE, backupPath: files.backup });
}

/** Freezing makes a caller that mutates `current` fail loudly instead of drifting from the disk. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
