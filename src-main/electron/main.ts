// The Electron shell around the gateway: one instance, a window, a tray, IPC. Everything that serves
// traffic lives in core/ and runs without Electron; this file only decides the order things start in.
import { app, dialog } from 'electron';
import { createGateway, type Gateway } from '../core/gateway.js';
import { setupIpc } from './ipc.js';
import { appPaths } from './paths.js';
import { setupTray } from './tray.js';
import { setupWindow, type AppWindow } from './window.js';

/** How long quitting waits for the proxy to drain and the settings to be written before giving up. */
const QUIT_TIMEOUT_MS = 10_000;

/** `--hidden` starts in the tray only (for starting with the desktop session). */
const startHidden = process.argv.includes('--hidden');

/** Quitting (tray, menu, OS logout) first stops the gateway: listeners closed, settings flushed. */
function setupQuit(gateway: Gateway): void {
  let closed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (closing) return;
    closing = true;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, QUIT_TIMEOUT_MS).unref());
    Promise.race([gateway.close(), timeout])
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

async function onReady(): Promise<void> {
  const paths = appPaths();
  const gateway = await createGateway({ dataDir: app.getPath('userData') });
  setupQuit(gateway);
  const window = setupWindow(paths);
  setupIpc(gateway, window); // before the page loads: it calls the API as soon as it runs
  setupTray(gateway, window, paths);
  setupSecondInstance(window);
  if (!startHidden) window.show();
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

if (!app.requestSingleInstanceLock()) {
  // Another Gatehouse owns the ports and the data directory; it has been asked to show its window.
  app.quit();
} else {
  app.whenReady().then(onReady).catch(failedToStart);
}
