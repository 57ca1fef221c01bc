// Deciding, when the app starts, which settings to run with: the file as it is, the file upgraded,
// the backup, or the defaults. Whatever the file holds, the user's data is never destroyed: a file
// that cannot be used is kept aside, and a file from a newer app is not written at all.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { defaultSettings, type Settings } from '../../../shared/model.js';
import type { Problem } from '../../../shared/status.js';
import { decodeSettings } from './decode.js';
import { moveAsideWithoutReplacing, restrictToOwner } from './durable-file.js';
import { newerVersionNotice, unreadableNotice, type RecoverySource } from './notices.js';

export const SETTINGS_FILE = 'settings.json';

/** The files the store uses, named in one place. */
export interface SettingsFiles {
  main: string;
  backup: string;
  /** Where an unusable file is kept: the name carries the time, without colons (Windows forbids them). */
  unreadable(at: Date): string;
}

export function settingsFiles(dataDir: string): SettingsFiles {
  const main = join(dataDir, SETTINGS_FILE);
  return {
    main,
    backup: `${main}.bak`,
    unreadable: (at) => `${main}.unreadable-${at.toISOString().replaceAll(':', '')}`,
  };
}

export interface Loaded {
  settings: Settings;
  notice: Problem | null;
  /** Set to the file's version when it was written by a newer app and must not be replaced. */
  newerVersion: number | null;
  /** The file on disk differs from `settings` in meaning (missing, migrated, recovered) and should be written now. */
  writeNow: boolean;
}

export async function loadSettings(files: SettingsFiles, now: () => Date = () => new Date()): Promise<Loaded> {
  const text = await readIfPresent(files.main);
  if (text === null) return { settings: defaultSettings(), notice: null, newerVersion: null, writeNow: true };
  const decoded = decodeSettings(text);
  switch (decoded.kind) {
    case 'usable':
      // Best effort: a file we may not chmod (another owner) is still worth starting with.
      await restrictToOwner(files.main).catch(() => undefined);
      // A migrated file is written back at once, so the old format survives only as the backup.
      return { settings: decoded.settings, notice: null, newerVersion: null, writeNow: decoded.migratedFrom !== null };
    case 'newer':
      return {
        settings: decoded.settings ?? defaultSettings(),
        notice: newerVersionNotice(files.main, decoded.version, decoded.settings !== null),
        newerVersion: decoded.version,
        writeNow: false,
      };
    case 'unreadable':
      return recoverFromUnreadable(files, decoded.reason, now());
  }
}

async function recoverFromUnreadable(files: SettingsFiles, reason: string, at: Date): Promise<Loaded> {
  const keptAt = await moveAsideWithoutReplacing(files.main, files.unreadable(at));
  const backup = await readUsableBackup(files.backup);
  const source: RecoverySource = backup ? { kind: 'backup', path: files.backup } : { kind: 'defaults' };
  return {
    settings: backup ?? defaultSettings(),
    notice: unreadableNotice(files.main, reason, keptAt, source),
    newerVersion: null,
    writeNow: true,
  };
}

/** The backup's settings when it is current or older and valid; a bad backup is left as it is. */
async function readUsableBackup(path: string): Promise<Settings | null> {
  const text = await readIfPresent(path);
  if (text === null) return null;
  const decoded = decodeSettings(text);
  return decoded.kind === 'usable' ? decoded.settings : null;
}

async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`Cannot read the settings file ${path}: ${(error as Error).message}`, { cause: error });
  }
}
