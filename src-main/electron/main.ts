// The Electron shell around the gateway: one instance, a window, a tray, notifications, start at
// login, IPC. Everything that serves traffic lives in core/ and runs without Electron; this file only
// decides the order things start in. Security measures: SECURITY.md beside this file.
import { app, dialog } from 'electron';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Route } from '../../shared/model.js';
import { createGateway, type Gateway } from '../core/gateway.js';
import { isAllowedExternalUrl } from './external-links.js';
import { setupIpc } from './ipc.js';
import { cliArguments, runAsNodeEnv } from './launch-mode.js';
import { setupNotifications } from './notifications.js';
import { appPaths } from './paths.js';
import { osKeystoreSecretBox } from './secret-box.js';
import { launchedAtLogin, setupStartAtLogin } from './start-at-login.js';
import { setupTray } from './tray.js';
import { setupWindow, type AppWindow } from './window.js';
import { readWindowState } from './window-state.js';

/** How long quitting waits for the proxy to drain and the settings to be written before giving up. */
const QUIT_TIMEOUT_MS = 10_000;

/** Quitting (tray, menu, OS logout) first stops the gateway and saves the window's place. */
function setupQuit(gateway: Gateway, window: AppWindow): void {
  let closed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (closing) return;
    closing = true;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, QUIT_TIMEOUT_MS).unref());
    Promise.race([Promise.all([gateway.close(), window.saveState()]), timeout])
      .catch((error: unknown) => console.error('Gatehouse: stopping the gateway failed', error))
      .finally(() => {
        closed = true;
        app.quit();
      });
  });
  // The window only hides on close; if it is ever destroyed, the app stays in the tray all the same.
  app.on('window-all-closed', () => {});
}

/** A second launch (from the menu, or while the window is hidden) brings the running one forward. */
function setupSecondInstance(window: AppWindow): void {
  app.on('second-instance', () => window.show());
  app.on('activate', () => window.show()); // macOS: clicking the Dock icon
}

/** The user's routes, for the links the page may open in the browser (their names and upstreams). */
function followRoutes(gateway: Gateway): () => readonly Route[] {
  let routes: readonly Route[] = [];
  gateway.subscribe(
    (event) => {
      if (event.type === 'routes') routes = event.data;
    },
    ['routes'],
  );
  void gateway.handlers.listRoutes({}).then(
    (current) => {
      if (routes.length === 0) routes = current;
    },
    () => {}, // the tray reports a gateway that cannot list routes
  );
  return () => routes;
}

async function onReady(): Promise<void> {
  // Windows shows notifications only for an app with an identity (the installer registers this one).
  if (process.platform === 'win32') app.setAppUserModelId('org.gatehouse.app');
  const paths = appPaths();
  const dataDir = app.getPath('userData');
  const savedState = await readWindowState(dataDir);
  const secretBox = osKeystoreSecretBox();
  const gateway = await createGateway({ dataDir, shell: 'desktop', canStartAtLogin: true, ...(secretBox ? { secretBox } : {}) });
  const routes = followRoutes(gateway);
  const window = setupWindow({
    paths,
    stateDir: dataDir,
    savedState,
    mayOpenExternally: (url) => isAllowedExternalUrl(url, { routes: routes() }),
  });
  setupQuit(gateway, window);
  setupIpc(gateway, window); // before the page loads: it calls the API as soon as it runs
  setupTray(gateway, window, paths);
  setupNotifications(gateway, window, paths);
  setupStartAtLogin(gateway);
  setupSecondInstance(window);
  if (!launchedAtLogin()) window.show();
  // A proxy that cannot start (port taken, no permission for 80) is not an app that cannot start:
  // the status says why and how to fix it, so show it rather than exit.
  await gateway.startup().catch((error: unknown) => {
    console.error('Gatehouse: starting the proxy failed', error);
    window.show();
  });
}

function failedToStart(error: unknown): void {
  console.error('Gatehouse could not start', error);
  const message = error instanceof Error ? error.message : String(error);
  const fix = (error as { details?: { fix?: unknown } } | null)?.details?.fix;
  dialog.showErrorBox('Gatehouse could not start', typeof fix === 'string' ? `${message}\n\n${fix}` : message);
  app.exit(1);
}

/** `gatehouse serve …`: the headless server from the same executable, run as plain Node. */
function runCli(args: string[]): void {
  const cli = join(app.getAppPath(), 'bin', 'gatehouse.js');
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit', env: runAsNodeEnv(process.env) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`gatehouse: could not start ${cli}: ${error.message}`);
    app.exit(1);
  });
  child.on('exit', (code, signal) => app.exit(code ?? (signal ? 1 : 0)));
}

const cliArgs = cliArguments(process.argv, app.isPackaged);
if (cliArgs) {
  runCli(cliArgs);
} else if (!app.requestSingleInstanceLock()) {
  // Another Gatehouse owns the ports and the data directory; it has been asked to show its window.
  app.quit();
} else {
  app.whenReady().then(onReady).catch(failedToStart);
}
