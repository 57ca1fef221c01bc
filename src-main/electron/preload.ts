// The sandboxed preload: exposes exactly the API contract as `window.gatehouse`, never ipcRenderer.
// It runs sandboxed, so it cannot require local files: scripts/build-preload.mjs bundles it to CommonJS.
import { contextBridge, ipcRenderer } from 'electron';
import type { ApiEvent, ApiMember } from '../../shared/api.js';
import { EVENT_CHANNEL, type GatehouseBridge, type IpcEnvelope } from './bridge.js';

// A member missing here, or one the contract does not have, is a compile error. Listed by name rather
// than imported from shared/api.ts so the preload does not carry the schemas (main validates anyway).
const members: Record<ApiMember, true> = {
  listRoutes: true, getRoute: true, addRoute: true, updateRoute: true, removeRoute: true,
  getStatus: true, startProxy: true, stopProxy: true, checkPorts: true, getHealth: true,
  getStats: true, recentLog: true, getSettings: true, updateSettings: true,
  exportSettings: true, previewImport: true, importSettings: true, getAppInfo: true,
};

const bridge: GatehouseBridge = {
  call(member, input) {
    if (typeof member !== 'string' || !Object.hasOwn(members, member)) {
      return Promise.resolve<IpcEnvelope>({ ok: false, error: { code: 'not_found', message: `Gatehouse has no operation "${String(member)}".` } });
    }
    return ipcRenderer.invoke(member, input) as Promise<IpcEnvelope>;
  },
  subscribe(listener) {
    // The page never sees the IpcRendererEvent (it holds `sender`, i.e. ipcRenderer).
    const forward = (_event: unknown, apiEvent: ApiEvent) => listener(apiEvent);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, forward);
  },
};

contextBridge.exposeInMainWorld('gatehouse', bridge);
