// The tray icon: the proxy's state at a glance (running, stopped, failed), the route count, Start/Stop,
// Open and Quit. It is how the app is reached once its window is closed. What it shows is decided in
// tray-menu.ts; this file only keeps it current from the gateway's status, routes and health events.
import { app, Menu, nativeImage, Tray, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import { join } from 'node:path';
import { parseInput, type ApiMember } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import type { ProxyStatus, RouteHealth } from '../../shared/status.js';
import type { Gateway } from '../core/gateway.js';
import type { AppPaths } from './paths.js';
import { trayView, type TrayAction, type TrayIconState, type TrayMenuItem } from './tray-menu.js';
import type { AppWindow } from './window.js';

/** Held for the app's lifetime: a Tray nothing references is garbage-collected and vanishes. */
let liveTray: Tray | null = null;

/**
 * <state>.png is 16 px; Electron picks <state>@2x.png (32 px) on high-density screens. The icons are
 * coloured on purpose, also on macOS (not template images): the colour is the state.
 */
function loadIcons(paths: AppPaths): Record<TrayIconState, NativeImage> {
  const load = (state: TrayIconState) => nativeImage.createFromPath(join(paths.assets, 'tray', `${state}.png`));
  return { running: load('running'), stopped: load('stopped'), error: load('error') };
}

export function setupTray(gateway: Gateway, window: AppWindow, paths: AppPaths): Tray {
  const icons = loadIcons(paths);
  const tray = new Tray(icons.stopped);
  liveTray = tray;
  let status: ProxyStatus | null = null;
  let routes: Route[] | null = null;
  let health: RouteHealth[] | null = null;

  const run = async (member: Extract<ApiMember, 'startProxy' | 'stopProxy'>) => {
    try {
      await gateway.handlers[member](parseInput(member, {}));
    } catch (error) {
      // The status event carries the problem and its fix; the window is where they can be read.
      console.error(`Gatehouse: ${member} from the tray failed`, error);
      window.show();
    }
  };
  const actions: Record<TrayAction, () => void> = {
    start: () => void run('startProxy'),
    stop: () => void run('stopProxy'),
    open: () => window.show(),
    quit: () => app.quit(),
  };
  const toMenuItem = (item: TrayMenuItem): MenuItemConstructorOptions => {
    if (item.kind === 'separator') return { type: 'separator' };
    if (item.kind === 'info') return { label: item.label, enabled: false };
    return { label: item.label, enabled: item.enabled, click: actions[item.action] };
  };

  const render = () => {
    if (tray.isDestroyed()) return;
    const view = trayView(status, routes, health);
    tray.setImage(icons[view.icon]);
    tray.setToolTip(view.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(view.menu.map(toMenuItem)));
  };

  tray.on('click', () => window.show());
  gateway.subscribe(
    (event) => {
      if (event.type === 'status') status = event.data;
      else if (event.type === 'routes') routes = event.data;
      else if (event.type === 'health') health = event.data;
      else return;
      render();
    },
    ['status', 'routes', 'health'],
  );
  render();

  // The current state, for what happened before the subscription. An event that arrived meanwhile
  // is at least as new as these answers, so it wins.
  const failed = (what: string) => (error: unknown) => {
    console.error(`Gatehouse: the tray could not read ${what}`, error);
    return null;
  };
  void Promise.all([
    gateway.handlers.getStatus(parseInput('getStatus', {})).catch(failed('the proxy status')),
    gateway.handlers.listRoutes(parseInput('listRoutes', {})).catch(failed('the routes')),
    gateway.handlers.getHealth(parseInput('getHealth', {})).catch(failed('the upstreams’ health')),
  ]).then(([currentStatus, currentRoutes, currentHealth]) => {
    status ??= currentStatus;
    routes ??= currentRoutes;
    health ??= currentHealth;
    render();
  });
  return tray;
}
