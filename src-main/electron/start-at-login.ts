// "Start at login" (settings.app.startAtLogin, changed from the Settings page): applied at startup
// and whenever the settings change. macOS and Windows: the OS's login items through Electron. Linux,
// where Electron has no login items: an XDG autostart entry (autostart-linux.ts).
import { app } from 'electron';
import { parseInput } from '../../shared/api.js';
import type { Gateway } from '../core/gateway.js';
import { applyLinuxAutostart, launchCommand } from './autostart-linux.js';

/** The argument a login launch gets: start in the tray, without the window. */
export const HIDDEN_ARG = '--hidden';

async function apply(enabled: boolean): Promise<void> {
  // In development the executable is Electron itself, which needs the app's directory.
  const appPath = app.isPackaged ? undefined : app.getAppPath();
  if (process.platform === 'linux') {
    await applyLinuxAutostart(enabled, launchCommand({ execPath: process.execPath, ...(appPath ? { appPath } : {}), args: [HIDDEN_ARG] }));
    return;
  }
  // `args` is read on Windows; macOS opens the app as a login item and main.ts asks wasOpenedAtLogin.
  app.setLoginItemSettings({ openAtLogin: enabled, path: process.execPath, args: [...(appPath ? [appPath] : []), HIDDEN_ARG] });
}

/** Whether this launch came from a login item (`--hidden`, or macOS's own flag). */
export function launchedAtLogin(): boolean {
  if (process.argv.includes(HIDDEN_ARG)) return true;
  return process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin;
}

export function setupStartAtLogin(gateway: Gateway): void {
  let applied: boolean | null = null;
  let queue = Promise.resolve();
  const want = (enabled: boolean) => {
    if (enabled === applied) return;
    applied = enabled;
    // One change at a time, in order: turning it on and off quickly ends with the last choice.
    queue = queue
      .then(() => apply(enabled))
      .catch((error: unknown) => {
        applied = null; // try again on the next settings change
        console.error(`Gatehouse: could not ${enabled ? 'turn on' : 'turn off'} start at login`, error);
      });
  };
  let heard = false;
  gateway.subscribe(
    (event) => {
      if (event.type !== 'settings') return;
      heard = true;
      want(event.data.app.startAtLogin);
    },
    ['settings'],
  );
  gateway.handlers.getSettings(parseInput('getSettings', {})).then(
    // A settings event that arrived meanwhile is newer than this answer.
    (settings) => {
      if (!heard) want(settings.app.startAtLogin);
    },
    (error: unknown) => console.error('Gatehouse: could not read the start-at-login setting', error),
  );
}
