// Where `gatehouse serve` keeps its data when --data-dir is not given: the directory Electron uses
// as `userData` for an app named "Gatehouse", so the desktop app and the headless server on one
// machine share one settings file.
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

export const APP_DIR_NAME = 'Gatehouse';

export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  switch (platform) {
    case 'darwin':
      return posix.join(home, 'Library', 'Application Support', APP_DIR_NAME);
    case 'win32':
      return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
    default:
      return posix.join(env.XDG_CONFIG_HOME || posix.join(home, '.config'), APP_DIR_NAME);
  }
}
