// A native notification when a service goes down ("Jellyfin is down" and why); clicking it opens the
// window. When one is due is decided in down-alerts.ts; this file only shows it.
import { Notification } from 'electron';
import { join } from 'node:path';
import { parseInput } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import type { Gateway } from '../core/gateway.js';
import { DownAlerts, type DownAlert } from './down-alerts.js';
import type { AppPaths } from './paths.js';
import type { AppWindow } from './window.js';

/** Shown notifications, held until closed: one nothing references can be collected and lose its click. */
const live = new Set<Notification>();

function show(alert: DownAlert, window: AppWindow, paths: AppPaths): void {
  const notification = new Notification({
    title: alert.title,
    body: alert.body,
    icon: join(paths.assets, 'icons', '256x256.png'),
  });
  live.add(notification);
  notification.on('click', () => window.show());
  notification.on('close', () => live.delete(notification));
  notification.on('failed', (_event, error) => {
    live.delete(notification);
    console.error(`Gatehouse: the notification "${alert.title}" could not be shown: ${error}`);
  });
  notification.show();
}

export function setupDownNotifications(gateway: Gateway, window: AppWindow, paths: AppPaths): void {
  if (!Notification.isSupported()) {
    console.warn('Gatehouse: this desktop shows no notifications; services going down are shown in the tray and the window only.');
    return;
  }
  const alerts = new DownAlerts();
  let routes: Route[] = [];
  gateway.subscribe(
    (event) => {
      if (event.type === 'routes') routes = event.data;
      if (event.type !== 'health') return;
      const alert = alerts.update(event.data, routes);
      if (alert) show(alert, window, paths);
    },
    ['routes', 'health'],
  );
  gateway.handlers.listRoutes(parseInput('listRoutes', {})).then(
    (current) => {
      if (routes.length === 0) routes = current;
    },
    (error: unknown) => console.error('Gatehouse: could not read the routes for notifications', error),
  );
}
