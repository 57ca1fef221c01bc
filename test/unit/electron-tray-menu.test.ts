// What the tray shows (src-main/electron/tray-menu.ts): icon, tooltip and menu for each proxy state,
// with the route count and how many upstreams are down.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Route } from '../../shared/model.js';
import type { ProxyStatus, RouteHealth } from '../../shared/status.js';
import { describeRoutes, trayView, type TrayMenuItem } from '../../src-main/electron/tray-menu.js';

function status(state: ProxyStatus['state'], extra: Partial<ProxyStatus> = {}): ProxyStatus {
  return {
    state,
    http: state === 'running' ? { address: '0.0.0.0', port: 80 } : null,
    problem: null,
    startedAt: null,
    lanAddresses: [],
    routeCount: 0,
    settingsNotice: null,
    ...extra,
  } as ProxyStatus;
}

const route = (id: string) => ({ id, names: [`${id}.home.arpa`] }) as Route;
const down = (routeId: string) => ({ routeId, state: 'down' }) as RouteHealth;
const up = (routeId: string) => ({ routeId, state: 'up' }) as RouteHealth;

const labels = (menu: TrayMenuItem[]) => menu.flatMap((item) => (item.kind === 'separator' ? [] : [item.label]));
const enabled = (menu: TrayMenuItem[]) =>
  Object.fromEntries(menu.flatMap((item) => (item.kind === 'action' ? [[item.action, item.enabled]] : [])));

describe('trayView', () => {
  it('shows a running proxy: green icon, its port, the routes, Stop enabled', () => {
    const view = trayView(status('running'), [route('jf'), route('ha'), route('nas')], [up('jf')]);
    assert.equal(view.icon, 'running');
    assert.equal(view.tooltip, 'Gatehouse — Proxy running on port 80 — 3 routes');
    assert.deepEqual(labels(view.menu), ['Proxy running on port 80', '3 routes', 'Start proxy', 'Stop proxy', 'Open Gatehouse', 'Quit Gatehouse']);
    assert.deepEqual(view.menu.slice(0, 2), [
      { kind: 'info', label: 'Proxy running on port 80' },
      { kind: 'info', label: '3 routes' },
    ]);
    assert.deepEqual(enabled(view.menu), { start: false, stop: true, open: true, quit: true });
  });

  it('shows a stopped proxy: grey icon, Start enabled', () => {
    const view = trayView(status('stopped'), [], null);
    assert.equal(view.icon, 'stopped');
    assert.equal(view.tooltip, 'Gatehouse — Proxy stopped — No routes yet');
    assert.deepEqual(enabled(view.menu), { start: true, stop: false, open: true, quit: true });
  });

  it('shows a failed proxy: red icon, the problem in the tooltip and menu, Start enabled to retry', () => {
    const view = trayView(status('failed', { problem: { code: 'port_in_use', message: 'Port 80 is in use by another program.' } }), [route('jf')], null);
    assert.equal(view.icon, 'error');
    assert.equal(view.tooltip, 'Gatehouse — Proxy failed: Port 80 is in use by another program. — 1 route');
    assert.deepEqual(enabled(view.menu), { start: true, stop: false, open: true, quit: true });
  });

  it('offers neither Start nor Stop while the proxy is starting or stopping', () => {
    for (const state of ['starting', 'stopping'] as const) {
      const view = trayView(status(state), [], null);
      assert.equal(view.icon, 'stopped');
      assert.deepEqual(enabled(view.menu), { start: false, stop: false, open: true, quit: true }, state);
    }
  });

  it('works before the first answer: no status, no routes line', () => {
    const view = trayView(null, null, null);
    assert.equal(view.icon, 'stopped');
    assert.equal(view.tooltip, 'Gatehouse — Proxy status unknown');
    assert.deepEqual(labels(view.menu).slice(0, 2), ['Proxy status unknown', 'Start proxy']);
  });

  it('keeps a long problem inside the length desktops show', () => {
    const view = trayView(status('failed', { problem: { code: 'x', message: 'a'.repeat(500) } }), [], null);
    assert.ok(view.tooltip.length <= 120);
    assert.ok(view.tooltip.endsWith('…'));
  });

  it('names icons that exist at both densities', () => {
    for (const state of ['running', 'stopped', 'failed'] as const) {
      const icon = trayView(status(state), [], null).icon;
      for (const file of [`${icon}.png`, `${icon}@2x.png`]) {
        assert.ok(existsSync(new URL(`../../assets/tray/${file}`, import.meta.url)), file);
      }
    }
  });
});

describe('describeRoutes', () => {
  it('counts routes, and down upstreams of routes that still exist', () => {
    assert.equal(describeRoutes([route('a')], []), '1 route');
    assert.equal(describeRoutes([route('a'), route('b')], [down('a'), up('b')]), '2 routes, 1 down');
    assert.equal(describeRoutes([route('a')], [down('gone')]), '1 route');
    assert.equal(describeRoutes(null, [down('a')]), null);
  });
});
