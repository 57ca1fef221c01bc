// The tray icon: the proxy's state at a glance (running, stopped, failed), Start/Stop, Open, Quit.
// It is how the app is reached once its window is closed.
import { app, Menu, nativeImage, Tray, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import { join } from 'node:path';
import { parseInput, type ApiMember } from '../../shared/api.js';
import type { ProxyStatus } from '../../shared/model.js';
import type { Gateway } from '../core/gateway.js';
import type { AppPaths } from './paths.js';
import type { AppWindow } from './window.js';

type TrayIconState = 'running' | 'stopped' | 'error';

function iconStateFor(status: ProxyStatus | null): TrayIconState {
  if (status?.state === 'running') return 'running';
  if (status?.state === 'failed') return 'error';
  return 'stopped';
}

/** One line for the tooltip and the menu's first (disabled) item. */
function describe(status: ProxyStatus | null): string {
  switch (status?.state) {
    case 'running':
      return status.http ? `Proxy running on ${status.http.address}:${status.http.port}` : 'Proxy running';
    case 'starting':
      return 'Proxy starting…';
    case 'stopping':
      return 'Proxy stopping…';
    case 'failed':
      return `Proxy failed: ${status.problem?.message ?? 'see the window for details'}`;
    case 'stopped':
      return 'Proxy stopped';
    default:
      return 'Gatehouse';
  }
}

/** Held for the app's lifetime: a Tray nothing references is garbage-collected and vanishes. */
let liveTray: Tray | null = null;

export function setupTray(gateway: Gateway, window: AppWindow, paths: AppPaths): Tray {
  // <state>.png is 16 px; Electron picks <state>@2x.png (32 px) on high-density screens.
  const icons: Record<TrayIconState, NativeImage> = {
    running: nativeImage.createFromPath(join(paths.assets, 'tray', 'running.png')),
    stopped: nativeImage.createFromPath(join(paths.assets, 'tray', 'stopped.png')),
    error: nativeImage.createFromPath(join(paths.assets, 'tray', 'error.png')),
  };
  const tray = new Tray(icons.stopped);
  liveTray = tray;
  let status: ProxyStatus | null = null;

  const run = async (member: Extract<ApiMember, 'startProxy' | 'stopProxy'>) => {
    try {
      await gateway.handlers[member](parseInput(member, {}));
    } catch (error) {
      // The status event carries the problem and its fix; the window is where they can be read.
      console.error(`Gatehouse: ${member} from the tray failed`, error);
      window.show();
    }
  };

  const render = () => {
    const state = status?.state;
    const line = describe(status);
    const items: MenuItemConstructorOptions[] = [
      { label: line, enabled: false },
      { type: 'separator' },
      { label: 'Start proxy', enabled: state === 'stopped' || state === 'failed', click: () => void run('startProxy') },
      { label: 'Stop proxy', enabled: state === 'running', click: () => void run('stopProxy') },
      { type: 'separator' },
      { label: 'Open Gatehouse', click: () => window.show() },
      { type: 'separator' },
      { label: 'Quit Gatehouse', click: () => app.quit() },
    ];
    tray.setImage(icons[iconStateFor(status)]);
    tray.setToolTip(line);
    tray.setContextMenu(Menu.buildFromTemplate(items));
  };

  tray.on('click', () => window.show());
  gateway.subscribe((event) => {
    if (event.type !== 'status') return;
    status = event.data;
    render();
  });
  render();
  gateway.handlers.getStatus(parseInput('getStatus', {})).then(
    (current) => {
      // A status event may have arrived meanwhile; it is at least as new as this answer.
      status ??= current;
      render();
    },
    (error: unknown) => console.error('Gatehouse: could not read the proxy status for the tray', error),
  );
  return tray;
}
