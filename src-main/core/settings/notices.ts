// The Problems the settings store reports. Each says what happened to the user's file and what they
// can do, with full paths, because the reader may be fixing the file by hand in another window.
import { SETTINGS_VERSION } from '../../../shared/model.js';
import type { Problem } from '../../../shared/status.js';

export const UNREADABLE_CODE = 'settings_unreadable';
export const NEWER_VERSION_CODE = 'settings_newer_version';

/** Where the settings came from after the file at `path` could not be used. */
export type RecoverySource = { kind: 'backup'; path: string } | { kind: 'defaults' };

export function unreadableNotice(path: string, reason: string, keptAt: string, source: RecoverySource): Problem {
  const startedFrom =
    source.kind === 'backup'
      ? `the backup ${source.path} (the settings as they were before the last change)`
      : 'the default settings, because there was no usable backup';
  return {
    code: UNREADABLE_CODE,
    message: `The settings file ${path} could not be used: ${reason}. The file was kept unchanged as ${keptAt}, and Gatehouse started from ${startedFrom}.`,
    fix:
      `To get those settings back, correct the problem in ${keptAt} with a text editor, ` +
      `then quit Gatehouse and rename it to ${path}, replacing the one Gatehouse wrote.`,
  };
}

export function newerVersionNotice(path: string, version: number, understood: boolean): Problem {
  const inUse = understood
    ? 'Its settings are in use as far as this version understands them'
    : 'This version cannot understand its contents, so the default settings are in use';
  return {
    code: NEWER_VERSION_CODE,
    message:
      `The settings file ${path} was written by a newer Gatehouse (settings version ${version}; this one understands up to ${SETTINGS_VERSION}), ` +
      `so it is open read-only and left untouched: changes cannot be saved. ${inUse}.`,
    fix: 'Update Gatehouse to the latest version; the file will then be used as it is.',
  };
}

/** Why update() refused, for the error it rejects with. */
export function readOnlyMessage(path: string, version: number): string {
  return (
    `Settings cannot be changed: ${path} was written by a newer Gatehouse (settings version ${version}) ` +
    `and is kept read-only so that it is not damaged. Update Gatehouse to change settings.`
  );
}
