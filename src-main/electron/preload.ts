// The sandboxed preload: exposes exactly the API contract as `window.gatehouse`, never ipcRenderer.
// It runs sandboxed, so it cannot require local files: scripts/build-preload.mjs bundles it to CommonJS.
import { contextBridge, ipcRenderer } from 'electron';
import type { ApiEvent, ApiMember } from '../../shared/api.js';
import { EVENT_CHANNEL, WANTS_CHANNEL, type GatehouseBridge, type IpcEnvelope } from './bridge.js';
import { EventWants } from './event-wants.js';

// A member missing here, or one the contract does not have, is a compile error. Listed by name rather
// than imported from shared/api.ts so the preload does not carry the schemas (main validates anyway).
const members: Record<ApiMember, true> = {
  listRoutes: true, getRoute: true, addRoute: true, updateRoute: true, removeRoute: true,
  getStatus: true, startProxy: true, stopProxy: true, checkPorts: true, getHealth: true, setUpstreamDrained: true,
  getStats: true, recentLog: true, getSettings: true, updateSettings: true,
  exportSettings: true, previewImport: true, importSettings: true, getAppInfo: true,
  getCertificates: true, setCaDomains: true, downloadCa: true, importCertificate: true,
  removeCertificate: true, renewCertificate: true, getTrustPlan: true, trustCa: true, untrustCa: true,
  getAcmeDirectory: true, addAcmeAccount: true, updateAcmeAccount: true, rolloverAcmeKey: true, removeAcmeAccount: true,
  addDnsProvider: true, updateDnsProvider: true, removeDnsProvider: true, testDnsProvider: true, preflightCertificate: true,
  listStreams: true, getStream: true, addStream: true, updateStream: true, removeStream: true,
  getDiscovery: true, probeHost: true, getPresets: true,
  getAccess: true, addAccessList: true, updateAccessList: true, removeAccessList: true, checkAccess: true,
  addAccessUser: true, setAccessUserPassword: true, removeAccessUser: true, addSignInProvider: true,
  updateSignInProvider: true, removeSignInProvider: true, updateAccessSettings: true, liftBan: true,
  searchLog: true, getHistory: true, getHistorySummary: true, runDoctor: true,
  getInspector: true, setInspector: true, clearInspector: true, replayRequest: true,
  getBackups: true, updateBackupSchedule: true, createBackup: true, previewRestore: true, restoreBackup: true,
  previewNpmImport: true, applyNpmImport: true,
};

// Main forwards only the event types some listener here wants (the log only while a page shows it).
const wants = new EventWants();

const bridge: GatehouseBridge = {
  call(member, input) {
    if (typeof member !== 'string' || !Object.hasOwn(members, member)) {
      return Promise.resolve<IpcEnvelope>({ ok: false, error: { code: 'not_found', message: `Gatehouse has no operation "${String(member)}".` } });
    }
    return ipcRenderer.invoke(member, input) as Promise<IpcEnvelope>;
  },
  subscribe(listener, types) {
    // The page never sees the IpcRendererEvent (it holds `sender`, i.e. ipcRenderer).
    const forward = (_event: unknown, apiEvent: ApiEvent) => listener(apiEvent);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    const want = wants.add(types);
    if (want.changed) ipcRenderer.send(WANTS_CHANNEL, wants.wanted());
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
      if (want.remove()) ipcRenderer.send(WANTS_CHANNEL, wants.wanted());
    };
  },
};

contextBridge.exposeInMainWorld('gatehouse', bridge);
