// Every setting, route and stream as one file, and back: the export a user keeps as a backup or carries to
// another machine, and the import that reads it. An import accepts that file or a bare settings.json
// (older versions are migrated through the same steps as at start), and is checked completely before
// anything is written: a file that cannot be used is refused with the field that is wrong.
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ApiError, invalidInput } from '../../../shared/api.js';
import { SETTINGS_VERSION, SettingsSchema, type Route, type Settings } from '../../../shared/model.js';
import type { Stream } from '../../../shared/streams.js';
import { SETTINGS_EXPORT_FORMAT, type ImportPreview, type SettingsExport } from '../../../shared/status.js';
import { describeJsonType, fillDefaults, isPlainObject, readVersion } from '../settings/decode.js';
import { writeFileDurably } from '../settings/durable-file.js';
import { migrateToCurrent, type RawSettings } from '../settings/migrations.js';

/** The fields an export file has around the settings. */
const EXPORT_FIELDS = new Set(['format', 'exportedAt', 'appVersion', 'settings']);
/** A bare settings.json has at least one of these; `{}` or some other JSON is not taken for one. */
const SETTINGS_FIELDS = ['version', 'proxy', 'admin', 'log', 'app', 'routes', 'streams'];

export function exportSettings(settings: Settings, appVersion: string, now: Date = new Date()): SettingsExport {
  return { format: SETTINGS_EXPORT_FORMAT, exportedAt: now.toISOString(), appVersion, settings: structuredClone(settings) };
}

/** A file that passed every check, brought to the current format: what the import will store. */
export interface ImportedSettings {
  settings: Settings;
  /** The format version the file was written in. */
  fileVersion: number;
  /** When it was exported; null for a bare settings.json. */
  exportedAt: string | null;
}

function refused(path: string, message: string): ApiError {
  const where = path ? `${path}: ` : '';
  return new ApiError('invalid_input', `This file cannot be imported, and nothing was changed: ${where}${message}.`, { issues: [{ path, message }] });
}

/**
 * Checks an export file or a bare settings.json and returns the settings an import would store
 * (migrated, defaults filled in, the first-run guide marked done). Throws `invalid_input` whose
 * issues name the field by its path in the file ("settings.routes.1.upstream").
 */
export function readImport(document: unknown): ImportedSettings {
  if (!isPlainObject(document)) throw refused('', `expected a Gatehouse settings file (a JSON object), found ${describeJsonType(document)}`);
  let raw: unknown = document;
  let under: string[] = [];
  let exportedAt: string | null = null;
  if (Object.hasOwn(document, 'format')) {
    if (document.format !== SETTINGS_EXPORT_FORMAT) {
      throw refused('format', `expected "${SETTINGS_EXPORT_FORMAT}", found ${JSON.stringify(document.format)}; this is not a Gatehouse settings export`);
    }
    const unknown = Object.keys(document).filter((key) => !EXPORT_FIELDS.has(key));
    if (unknown.length > 0) throw refused('', `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
    if (document.exportedAt !== undefined && typeof document.exportedAt !== 'string') throw refused('exportedAt', 'expected the time as text');
    exportedAt = (document.exportedAt as string | undefined) ?? null;
    raw = document.settings;
    under = ['settings'];
    if (!isPlainObject(raw)) throw refused('settings', `expected the settings (a JSON object), found ${describeJsonType(raw)}`);
  } else if (!SETTINGS_FIELDS.some((field) => Object.hasOwn(document, field))) {
    throw refused('', `this is not a Gatehouse settings file: it has none of the fields ${SETTINGS_FIELDS.join(', ')}`);
  }
  const prefix = under.map((key) => `${key}.`).join('');
  const version = readVersion(raw as RawSettings);
  if (typeof version === 'string') throw refused(`${prefix}version`, version);
  if (version > SETTINGS_VERSION) {
    throw refused(
      `${prefix}version`,
      `the file was written by a newer Gatehouse (settings version ${version}; this one understands up to ${SETTINGS_VERSION}); update Gatehouse, then import it`,
    );
  }
  let migrated: RawSettings;
  try {
    migrated = migrateToCurrent(raw as RawSettings, version);
  } catch (error) {
    throw refused(`${prefix}version`, `upgrading it from settings version ${version} failed: ${(error as Error).message}`);
  }
  const checked = SettingsSchema.safeParse(fillDefaults(migrated));
  if (!checked.success) {
    const invalid = invalidInput(checked.error, under);
    throw new ApiError('invalid_input', `This file cannot be imported, and nothing was changed: ${invalid.message}.`, invalid.details);
  }
  // Whoever imports settings has been through the app (or is setting up a copy of one that has).
  const settings: Settings = { ...checked.data, app: { ...checked.data.app, onboarded: true } };
  return { settings, fileVersion: version, exportedAt };
}

/** Items compared by id: what an import adds, removes, changes and leaves as it is. */
function compareById<T extends { id: string }>(current: readonly T[], imported: readonly T[]): { added: T[]; removed: T[]; changed: { before: T; after: T }[]; unchanged: number } {
  const before = new Map(current.map((item) => [item.id, item]));
  const afterIds = new Set(imported.map((item) => item.id));
  const added: T[] = [];
  const changed: { before: T; after: T }[] = [];
  let unchanged = 0;
  for (const item of imported) {
    const old = before.get(item.id);
    if (!old) added.push(item);
    else if (isDeepStrictEqual(old, item)) unchanged++;
    else changed.push({ before: old, after: item });
  }
  return { added, removed: current.filter((item) => !afterIds.has(item.id)), changed, unchanged };
}

/** What storing `imported` over `current` would change. */
export function previewImport(current: Settings, imported: ImportedSettings): Omit<ImportPreview, 'warnings'> {
  const { routes: _currentRoutes, streams: _currentStreams, version: _currentVersion, ...currentGeneral } = current;
  const { routes: _importedRoutes, streams: _importedStreams, version: _importedVersion, ...importedGeneral } = imported.settings;
  return {
    routes: compareById<Route>(current.routes, imported.settings.routes),
    streams: compareById<Stream>(current.streams, imported.settings.streams),
    settings: changedLeaves(currentGeneral, importedGeneral, ''),
    fileVersion: imported.fileVersion,
    exportedAt: imported.exportedAt,
  };
}

/** Each value that differs, by dotted path; lists (trusted proxies) are compared whole. */
function changedLeaves(before: unknown, after: unknown, path: string): { path: string; before: unknown; after: unknown }[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => changedLeaves(before[key], after[key], path ? `${path}.${key}` : key));
  }
  return isDeepStrictEqual(before, after) ? [] : [{ path, before, after }];
}

/**
 * Keeps the settings file as it is now next to it, as settings.before-import-<time>.json, so an
 * import can be undone by hand. Durable before the import replaces anything. Returns its path, or
 * null when there is no file yet.
 */
export async function keepCopyBeforeImport(settingsPath: string, now: Date = new Date()): Promise<string | null> {
  let text: string;
  try {
    text = await fs.readFile(settingsPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  // Colons are left out of the time: Windows forbids them in file names.
  const copy = join(dirname(settingsPath), `settings.before-import-${now.toISOString().replaceAll(':', '')}.json`);
  await writeFileDurably(copy, text, { mode: 0o600 });
  return copy;
}
