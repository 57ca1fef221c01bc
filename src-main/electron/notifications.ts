// Native notifications when a service goes down ("Jellyfin is down" and why), fails over to another
// of its upstreams and comes back, and when a route's certificate nears expiry or fails to renew
// (and renews again after that); clicking one opens the window. When one is due is decided in
// down-alerts.ts and certificate-alerts.ts; this file only shows it.
import { Notification } from 'electron';
import { join } from 'node:path';
import { parseInput } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import type { Gateway } from '../core/gateway.js';
import { CertificateAlerts } from './certificate-alerts.js';
import { DownAlerts, FailoverAlerts } from './down-alerts.js';
import type { AppPaths } from './paths.js';
import type { AppWindow } from './window.js';

/** Shown notifications, held until closed: one nothing references can be collected and lose its click. */
const live = new Set<Notification>();

function show(alert: { title: string; body: string }, window: AppWindow, paths: AppPaths): void {
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

export function setupNotifications(gateway: Gateway, window: AppWindow, paths: AppPaths): void {
  if (!Notification.isSupported()) {
    console.warn('Gatehouse: this desktop shows no notifications; services going down are shown in the tray and the window only.');
    return;
  }
  const alerts = new DownAlerts();
  const failoverAlerts = new FailoverAlerts();
  const certificateAlerts = new CertificateAlerts();
  let routes: Route[] = [];
  gateway.subscribe(
    (event) => {
      if (event.type === 'routes') routes = event.data;
      let alert = null;
      if (event.type === 'health') {
        failoverAlerts.health(event.data);
        alert = alerts.update(event.data, routes);
        if (alert) failoverAlerts.troubleAnnounced(alert.routeIds);
      } else if (event.type === 'failover') {
        alert = failoverAlerts.update(event.data, routes);
      } else if (event.type === 'certificates') {
        alert = certificateAlerts.update(event.data.routes, routes);
      }
      if (alert) show(alert, window, paths);
    },
    ['routes', 'health', 'failover', 'certificates'],
  );
  gateway.handlers
    .listRoutes(parseInput('listRoutes', {}))
    .then(async (current) => {
      if (routes.length === 0) routes = current;
      // Trouble already there at launch is announced too (see certificate-alerts.ts).
      const alert = certificateAlerts.update((await gateway.handlers.getCertificates(parseInput('getCertificates', {}))).routes, routes);
      if (alert) show(alert, window, paths);
    })
    .catch((error: unknown) => console.error('Gatehouse: could not read the routes and certificates for notifications', error));
}
