// The one window: the status page, locked down item by item from Electron's security checklist.
// Closing it only hides it (Gatehouse lives in the tray); it is destroyed when the app quits.
import { app, BrowserWindow, nativeTheme, session, shell, type WebContents } from 'electron';
import { join } from 'node:path';
import type { AppPaths } from './paths.js';
import { isAllowedExternalUrl } from './external-links.js';
import { checkSender } from './ipc-guard.js';

export interface AppWindow {
  /** The file:// URL of our page; IPC from any other page is refused. */
  readonly pageUrl: string;
  /** The current window's webContents, or null before the window first opens. */
  readonly webContents: WebContents | null;
  /** Creates the window on first use, then shows and focuses it. */
  show(): void;
  /** Sends to the page, if there is one; dropped otherwise (the page reloads state when it opens). */
  send(channel: string, payload: unknown): void;
}

/** Hands allow-listed https links to the user's browser; drops everything else. */
function openExternally(url: string): void {
  if (isAllowedExternalUrl(url)) void shell.openExternal(url);
  else console.warn(`Gatehouse blocked an attempt to open ${url.slice(0, 200)}`);
}

/** No navigation away from our page, no new windows, no webviews, no permissions. */
function lockDown(contents: WebContents, pageUrl: string): void {
  const stayOnPage = (event: { preventDefault(): void; url: string }) => {
    // Only our own page (a reload) may be navigated to; a link elsewhere goes to the browser.
    if (checkSender(event.url, pageUrl)) return;
    event.preventDefault();
    openExternally(event.url);
  };
  contents.on('will-navigate', stayOnPage);
  contents.on('will-redirect', stayOnPage);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
}

function denyAllPermissions(): void {
  // The status page needs no camera, notifications, clipboard reads or anything else a site may ask for.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

function createWindow(paths: AppPaths): BrowserWindow {
  const window = new BrowserWindow({
    title: 'Gatehouse',
    width: 960,
    height: 700,
    minWidth: 480,
    minHeight: 360,
    show: false,
    // Matches the page's own background, so a dark desktop sees no white flash.
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181d' : '#f7f7f8',
    icon: join(paths.assets, 'icons', '256x256.png'),
    autoHideMenuBar: true,
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  lockDown(window.webContents, paths.rendererUrl);
  // The CSP is a meta tag in the built index.html (see src-renderer/index.html): file:// has no headers.
  window.loadFile(paths.rendererIndex).catch((error: unknown) => {
    console.error(`Gatehouse: the window could not load ${paths.rendererIndex} (was the renderer built?)`, error);
  });
  return window;
}

export function setupWindow(paths: AppPaths): AppWindow {
  denyAllPermissions();
  let window: BrowserWindow | null = null;
  let shownOnce = false;
  let quitting = false;
  app.on('before-quit', () => {
    quitting = true;
  });

  const open = (): BrowserWindow => {
    if (window && !window.isDestroyed()) return window;
    const created = createWindow(paths);
    shownOnce = false;
    created.once('ready-to-show', () => {
      shownOnce = true;
      created.show();
    });
    created.on('close', (event) => {
      if (quitting) return;
      // Closing the window is not quitting: the proxy keeps serving, the tray brings the window back.
      event.preventDefault();
      created.hide();
    });
    created.on('closed', () => {
      if (window === created) window = null;
    });
    window = created;
    return created;
  };

  return {
    pageUrl: paths.rendererUrl,
    get webContents() {
      return window && !window.isDestroyed() ? window.webContents : null;
    },
    show() {
      const current = open();
      if (current.isMinimized()) current.restore();
      if (!shownOnce) return; // 'ready-to-show' shows it once the page has painted
      current.show();
      current.focus();
    },
    send(channel, payload) {
      if (window && !window.isDestroyed() && !window.webContents.isDestroyed()) window.webContents.send(channel, payload);
    },
  };
}
