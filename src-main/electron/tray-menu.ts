// What the tray shows for a given proxy status, routes and health: the icon, the tooltip and the menu.
// Kept free of electron so it is tested under node; tray.ts turns it into a Tray and a Menu.
import type { Route } from '../../shared/model.js';
import type { ProxyStatus, RouteHealth } from '../../shared/status.js';

/** assets/tray/<state>.png (16 px) and <state>@2x.png (32 px). */
export type TrayIconState = 'running' | 'stopped' | 'error';
export type TrayAction = 'start' | 'stop' | 'open' | 'quit';

export type TrayMenuItem =
  | { kind: 'info'; label: string }
  | { kind: 'action'; action: TrayAction; label: string; enabled: boolean }
  | { kind: 'separator' };

export interface TrayView {
  icon: TrayIconState;
  tooltip: string;
  menu: TrayMenuItem[];
}

export function iconStateFor(status: ProxyStatus | null): TrayIconState {
  if (status?.state === 'running') return 'running';
  if (status?.state === 'failed') return 'error';
  return 'stopped';
}

/** The proxy's state in one line. */
export function describeStatus(status: ProxyStatus | null): string {
  switch (status?.state) {
    case 'running':
      return status.http ? `Proxy running on port ${status.http.port}` : 'Proxy running';
    case 'starting':
      return 'Proxy starting…';
    case 'stopping':
      return 'Proxy stopping…';
    case 'failed':
      return `Proxy failed: ${status.problem?.message ?? 'open Gatehouse for details'}`;
    case 'stopped':
      return 'Proxy stopped';
    default:
      return 'Proxy status unknown';
  }
}

/** "3 routes", with how many are down when any are: "3 routes, 1 down". */
export function describeRoutes(routes: readonly Route[] | null, health: readonly RouteHealth[] | null): string | null {
  if (routes === null) return null;
  if (routes.length === 0) return 'No routes yet';
  const count = routes.length === 1 ? '1 route' : `${routes.length} routes`;
  const ids = new Set(routes.map((route) => route.id));
  const down = (health ?? []).filter((entry) => entry.state === 'down' && ids.has(entry.routeId)).length;
  return down > 0 ? `${count}, ${down} down` : count;
}

/** Tooltips are cut short on some desktops (Windows: 127 characters). */
const TOOLTIP_MAX = 120;

export function trayView(status: ProxyStatus | null, routes: readonly Route[] | null, health: readonly RouteHealth[] | null): TrayView {
  const state = status?.state;
  const statusLine = describeStatus(status);
  const routesLine = describeRoutes(routes, health);
  const tooltip = ['Gatehouse', statusLine, routesLine].filter(Boolean).join(' — ');
  return {
    icon: iconStateFor(status),
    tooltip: tooltip.length > TOOLTIP_MAX ? `${tooltip.slice(0, TOOLTIP_MAX - 1)}…` : tooltip,
    menu: [
      { kind: 'info', label: statusLine },
      ...(routesLine ? [{ kind: 'info' as const, label: routesLine }] : []),
      { kind: 'separator' },
      { kind: 'action', action: 'start', label: 'Start proxy', enabled: state === 'stopped' || state === 'failed' },
      { kind: 'action', action: 'stop', label: 'Stop proxy', enabled: state === 'running' },
      { kind: 'separator' },
      { kind: 'action', action: 'open', label: 'Open Gatehouse', enabled: true },
      { kind: 'separator' },
      { kind: 'action', action: 'quit', label: 'Quit Gatehouse', enabled: true },
    ],
  };
}
