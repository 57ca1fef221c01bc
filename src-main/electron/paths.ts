// Where the built app's files are, in development (`electron .`) and packaged (inside app.asar) alike:
// both are relative to the app root, the directory that holds package.json.
import { app } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface AppPaths {
  /** dist/renderer/index.html, the page the window loads. */
  readonly rendererIndex: string;
  /** Its file:// URL: the only page allowed to call the API and to be navigated to. */
  readonly rendererUrl: string;
  /** The bundled CommonJS preload. */
  readonly preload: string;
  /** assets/, for window and tray icons. */
  readonly assets: string;
}

export function appPaths(): AppPaths {
  const root = app.getAppPath();
  const rendererIndex = join(root, 'dist', 'renderer', 'index.html');
  return {
    rendererIndex,
    rendererUrl: pathToFileURL(rendererIndex).href,
    preload: join(root, 'dist', 'node', 'src-main', 'electron', 'preload.cjs'),
    assets: join(root, 'assets'),
  };
}
