// Turning the text of a settings file into Settings, or into a sentence saying exactly why not.
// Pure (no file system), so every way a file can be wrong is testable without touching a disk.
import type { z } from 'zod';
import { SETTINGS_VERSION, SettingsSchema, defaultSettings, type Settings } from '../../../shared/model.js';
import { migrateToCurrent, type RawSettings } from './migrations.js';

export type Decoded =
  /** `migratedFrom` is the file's older version, or null when it was already current. */
  | { kind: 'usable'; settings: Settings; migratedFrom: number | null }
  /** `reason` completes "the file could not be used: …". */
  | { kind: 'unreadable'; reason: string }
  /** Written by a newer app. `settings` is what this app could make of it, or null. */
  | { kind: 'newer'; version: number; settings: Settings | null };

/** How many schema problems a notice lists before "and N more": enough to fix, short enough to read. */
const MAX_LISTED_ISSUES = 3;

export function decodeSettings(text: string): Decoded {
  const parsed = parseJson(text);
  if ('reason' in parsed) return { kind: 'unreadable', reason: parsed.reason };
  const raw = parsed.value;
  if (!isPlainObject(raw)) return { kind: 'unreadable', reason: `it holds ${describeJsonType(raw)} where a JSON object ({ … }) was expected` };
  const version = readVersion(raw);
  if (typeof version === 'string') return { kind: 'unreadable', reason: `version: ${version}` };
  if (version > SETTINGS_VERSION) return { kind: 'newer', version, settings: bestEffort(raw) };
  let migrated: RawSettings;
  try {
    migrated = migrateToCurrent(raw, version);
  } catch (error) {
    return { kind: 'unreadable', reason: `upgrading it from settings version ${version} failed: ${errorMessage(error)}` };
  }
  const checked = SettingsSchema.safeParse(fillDefaults(migrated));
  if (!checked.success) return { kind: 'unreadable', reason: describeIssues(checked.error) };
  return { kind: 'usable', settings: checked.data, migratedFrom: version === SETTINGS_VERSION ? null : version };
}

/**
 * Fills every field the file leaves out with its default, section by section and into nested
 * objects (proxy.timeouts), so a file from before a field existed keeps working. Values that are
 * present are kept as they are, even when wrong, so the schema can name them.
 */
export function fillDefaults(raw: RawSettings): unknown {
  return fillMissing(defaultSettings(), raw);
}

function fillMissing(defaults: unknown, value: unknown): unknown {
  if (!isPlainObject(defaults) || !isPlainObject(value)) return value;
  const filled: Record<string, unknown> = { ...value };
  for (const [key, fallback] of Object.entries(defaults)) {
    filled[key] = Object.hasOwn(value, key) ? fillMissing(fallback, value[key]) : structuredClone(fallback);
  }
  return filled;
}

/**
 * A newer app may have added fields this one rejects; when the file still fits this app's schema
 * as if it were current, running with it beats running with no routes at all.
 */
function bestEffort(raw: RawSettings): Settings | null {
  const checked = SettingsSchema.safeParse(fillDefaults({ ...raw, version: SETTINGS_VERSION }));
  return checked.success ? checked.data : null;
}

/** The file's format version (0 when absent: the pre-release format), or why it is not one. */
export function readVersion(raw: RawSettings): number | string {
  if (!Object.hasOwn(raw, 'version')) return 0;
  const version = raw.version;
  if (typeof version === 'number' && Number.isInteger(version) && version >= 0) return version;
  return `expected a whole number such as ${SETTINGS_VERSION}, found ${JSON.stringify(version)}`;
}

function parseJson(text: string): { value: unknown } | { reason: string } {
  // Windows editors (Notepad) may save a byte-order mark, which JSON.parse rejects.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') return { reason: 'the file is empty' };
  try {
    return { value: JSON.parse(body) as unknown };
  } catch (error) {
    return { reason: `it is not valid JSON: ${describeJsonError(errorMessage(error), body)}` };
  }
}

/**
 * JSON.parse reports a character offset, and only some Node versions add a line; a person editing
 * the file needs the line and column, so they are computed here the same way on every version.
 */
export function describeJsonError(message: string, text: string): string {
  const position = /at position (\d+)/.exec(message)?.[1];
  const offset = position === undefined ? null : Number(position);
  // Newer V8 words a cut-short file as "Expected ',' … at position <end>" rather than "end of input".
  if (/unexpected end of json input/i.test(message) || (offset !== null && offset >= text.length)) {
    return `the text ends at ${lineAndColumn(text, text.length)} before the JSON is complete (the file may have been cut short)`;
  }
  const what = message.replace(/\s*in JSON at position \d+.*$/s, '');
  return offset === null ? what : `${what} at ${lineAndColumn(text, offset)} (position ${offset})`;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

/** "proxy.httpPort: a port is a whole number from 0 to 65535; routes[2].names[0]: …" */
export function describeIssues(error: z.ZodError): string {
  const listed = error.issues.slice(0, MAX_LISTED_ISSUES).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const more = error.issues.length - listed.length;
  return listed.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'top level';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
