// The one window: the Gatehouse UI, locked down item by item from Electron's security checklist (see
// SECURITY.md beside this file). Closing it only hides it (Gatehouse lives in the tray); it is destroyed
// when the app quits. Its size and place are remembered (window-state.ts).
import { app, BrowserWindow, nativeTheme, screen, session, shell, type WebContents } from 'electron';
import { join } from 'node:path';
import { checkSender } from './ipc-guard.js';
import type { AppPaths } from './paths.js';
import { initialBounds, minimumSize, WindowStateSaver, type WindowState } from './window-state.js';

export interface AppWindow {
  /** The file:// URL of our page; IPC from any other page is refused. */
  readonly pageUrl: string;
  /** The current window's webContents, or null before the window first opens. */
  readonly webContents: WebContents | null;
  /** Creates the window on first use, then shows and focuses it. */
  show(): void;
  /** Sends to the page, if there is one; dropped otherwise (the page reloads state when it opens). */
  send(channel: string, payload: unknown): void;
  /** Writes the window's size and place now (on quit). */
  saveState(): Promise<void>;
}

export interface WindowOptions {
  paths: AppPaths;
  /** Where window-state.json lives (userData). */
  stateDir: string;
  /** The size and place saved last time, or null. */
  savedState: WindowState | null;
  /** Whether a link may leave the app for the user's browser (external-links.ts). */
  mayOpenExternally: (url: string) => boolean;
}

/**
 * Every webContents the app ever creates (the window, DevTools, anything later): no navigation away
 * from our page in any frame, no new windows, no webviews. Links that pass `mayOpenExternally` go to the
 * user's browser instead; everything else is dropped.
 */
function lockDownAllContents(pageUrl: string, mayOpenExternally: (url: string) => boolean): void {
  const openExternally = (url: string) => {
    if (mayOpenExternally(url)) void shell.openExternal(url);
    else console.warn(`Gatehouse blocked an attempt to open ${url.slice(0, 200)}`);
  };
  app.on('web-contents-created', (_event, contents) => {
    const stayOnPage = (event: { preventDefault(): void; url: string }) => {
      if (checkSender(event.url, pageUrl)) return; // a reload of our own page
      event.preventDefault();
      openExternally(event.url);
    };
    contents.on('will-navigate', stayOnPage);
    contents.on('will-frame-navigate', stayOnPage);
    contents.on('will-redirect', stayOnPage);
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      openExternally(url);
      return { action: 'deny' };
    });
  });
}

/** The page needs no camera, notifications, clipboard reads, USB, HID or anything else a site may ask for. */
function denyAllPermissions(): void {
  const defaultSession = session.defaultSession;
  defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  defaultSession.setPermissionCheckHandler(() => false);
  defaultSession.setDevicePermissionHandler(() => false);
}

function createWindow(options: WindowOptions, saved: WindowState | null): BrowserWindow {
  const { paths } = options;
  const workAreas = screen.getAllDisplays().map((display) => display.workArea);
  const primary = screen.getPrimaryDisplay().workArea;
  const bounds = initialBounds(saved, workAreas, primary);
  const minimum = minimumSize(primary);
  const window = new BrowserWindow({
    title: 'Gatehouse',
    ...(bounds.x === undefined || bounds.y === undefined ? {} : { x: bounds.x, y: bounds.y }),
    width: bounds.width,
    height: bounds.height,
    minWidth: minimum.width,
    minHeight: minimum.height,
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
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      // A middle click opens a link in a new window; the open handler denies it, and this stops it earlier.
      disableBlinkFeatures: 'Auxclick',
      safeDialogs: true,
      spellcheck: false,
      // DevTools only in development (`npm start`); a packaged app has no use for them.
      devTools: !app.isPackaged,
    },
  });
  if (bounds.maximized) window.maximize();
  // The CSP is the meta tag in the built index.html: file:// responses have no headers, and
  // session.webRequest never sees file:// (so onHeadersReceived cannot add one).
  window.loadFile(paths.rendererIndex).catch((error: unknown) => {
    console.error(`Gatehouse: the window could not load ${paths.rendererIndex} (was the renderer built?)`, error);
  });
  return window;
}

export function setupWindow(options: WindowOptions): AppWindow {
  const { paths } = options;
  denyAllPermissions();
  lockDownAllContents(paths.rendererUrl, options.mayOpenExternally);
  const saver = new WindowStateSaver(options.stateDir);
  let saved = options.savedState;
  let window: BrowserWindow | null = null;
  let shownOnce = false;
  let quitting = false;
  app.on('before-quit', () => {
    quitting = true;
  });

  const remember = (target: BrowserWindow) => {
    if (target.isDestroyed() || target.isMinimized() || target.isFullScreen()) return;
    saved = { ...target.getNormalBounds(), maximized: target.isMaximized() };
    saver.schedule(saved);
  };

  const open = (): BrowserWindow => {
    if (window && !window.isDestroyed()) return window;
    const created = createWindow(options, saved);
    shownOnce = false;
    created.once('ready-to-show', () => {
      shownOnce = true;
      created.show();
    });
    const onChange = () => remember(created);
    created.on('move', onChange);
    created.on('resize', onChange);
    created.on('maximize', onChange);
    created.on('unmaximize', onChange);
    created.on('close', (event) => {
      remember(created);
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
    saveState() {
      if (window) remember(window);
      return saver.flush();
    },
  };
}
