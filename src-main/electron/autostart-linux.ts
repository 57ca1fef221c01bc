// "Start at login" on Linux, where Electron's app.setLoginItemSettings does nothing: an XDG autostart
// entry, $XDG_CONFIG_HOME/autostart/gatehouse.desktop (~/.config/autostart when unset), which GNOME,
// KDE, Xfce and the other XDG desktops launch when the user logs in. Plain node, tested under node.
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { writeFileDurably } from '../core/settings/durable-file.js';

export const AUTOSTART_FILE_NAME = 'gatehouse.desktop';

/** The directory desktops read autostart entries from. A relative $XDG_CONFIG_HOME is ignored, as the spec says. */
export function autostartDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const configHome = env.XDG_CONFIG_HOME;
  return join(configHome && isAbsolute(configHome) ? configHome : join(home, '.config'), 'autostart');
}

/**
 * One argument of an Exec line (Desktop Entry spec, "The Exec key"): quoted when it holds a reserved
 * character, with `"`, `` ` ``, `$` and `\` escaped inside the quotes; then, because Exec is a string
 * value, every backslash doubled once more. `%` is doubled so it is not read as a field code.
 */
export function execArgument(argument: string): string {
  const plain = /^[A-Za-z0-9_@%+=:,./-]+$/.test(argument);
  const quoted = plain ? argument : `"${argument.replace(/(["`$\\])/g, '\\$1')}"`;
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

/** Control characters cannot be written in a desktop entry, so such a path cannot be started from one. */
function assertWritable(value: string): void {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`Cannot write a login entry for a path with control characters: ${JSON.stringify(value)}`);
}

export interface LaunchCommand {
  /** The program to start: the installed executable, or the AppImage file itself. */
  executable: string;
  /** Its arguments, e.g. ['--hidden'] (in development also the app's directory first). */
  args: readonly string[];
}

/** The autostart entry's text. */
export function desktopEntry(command: LaunchCommand): string {
  for (const value of [command.executable, ...command.args]) assertWritable(value);
  const exec = [command.executable, ...command.args].map(execArgument).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=Gatehouse',
    'Comment=Starts Gatehouse in the tray when you log in (Gatehouse Settings, "Start at login")',
    `Exec=${exec}`,
    'Icon=gatehouse',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * What to start at login. Inside an AppImage, process.execPath is in a mount that is gone after the
 * app quits; the AppImage runtime names the real file in $APPIMAGE.
 */
export function launchCommand(options: {
  execPath: string;
  env?: NodeJS.ProcessEnv;
  /** The app directory, for `electron .` in development (a packaged app knows its own). */
  appPath?: string;
  args?: readonly string[];
}): LaunchCommand {
  const env = options.env ?? process.env;
  const executable = env.APPIMAGE && isAbsolute(env.APPIMAGE) ? env.APPIMAGE : options.execPath;
  return { executable, args: [...(options.appPath ? [options.appPath] : []), ...(options.args ?? ['--hidden'])] };
}

/**
 * Writes the autostart entry (when `enabled`) or removes it. Writes only when the content differs,
 * through a temp file and rename so a desktop never reads half an entry.
 */
export async function applyLinuxAutostart(enabled: boolean, command: LaunchCommand, dir: string = autostartDir()): Promise<void> {
  const file = join(dir, AUTOSTART_FILE_NAME);
  if (!enabled) {
    await fs.rm(file, { force: true });
    return;
  }
  const content = desktopEntry(command);
  const current = await fs.readFile(file, 'utf8').catch(() => null);
  if (current === content) return;
  await fs.mkdir(dir, { recursive: true });
  await writeFileDurably(file, content, { mode: 0o644 });
}
