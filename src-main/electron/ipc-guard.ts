// The decisions the IPC wrapper makes, kept free of electron so they run (and are tested) under node:
// is this sender our page, is the input valid, and what envelope goes back.
import { ApiError, parseInput, type ApiHandlers, type ApiMember, type ApiParsedInput, type ApiResults } from '../../shared/api.js';
import type { CallContext } from '../../shared/access.js';
import type { IpcEnvelope } from './bridge.js';

/** The desktop window is on this machine: it has no address of its own to show. */
const DESKTOP: CallContext = { client: null };

/** Calls one member's handler with an already validated input. */
type Invoker<K extends ApiMember> = (handlers: ApiHandlers, input: ApiParsedInput<K>) => Promise<ApiResults[K]>;
export type InvokerTable = { [K in ApiMember]: Invoker<K> };

/**
 * One entry per member of the contract: a member without an entry, or an entry the contract does not
 * have, is a compile error. ipc.ts registers one ipcMain handler per key of this table.
 */
export const invokers = {
  listRoutes: (h, input) => h.listRoutes(input),
  getRoute: (h, input) => h.getRoute(input),
  addRoute: (h, input) => h.addRoute(input),
  updateRoute: (h, input) => h.updateRoute(input),
  setUpstreamDrained: (h, input) => h.setUpstreamDrained(input),
  removeRoute: (h, input) => h.removeRoute(input),
  getStatus: (h, input) => h.getStatus(input),
  startProxy: (h, input) => h.startProxy(input),
  stopProxy: (h, input) => h.stopProxy(input),
  checkPorts: (h, input) => h.checkPorts(input),
  getHealth: (h, input) => h.getHealth(input),
  getStats: (h, input) => h.getStats(input),
  recentLog: (h, input) => h.recentLog(input),
  getSettings: (h, input) => h.getSettings(input),
  updateSettings: (h, input) => h.updateSettings(input),
  exportSettings: (h, input) => h.exportSettings(input),
  previewImport: (h, input) => h.previewImport(input),
  importSettings: (h, input) => h.importSettings(input),
  getCertificates: (h, input) => h.getCertificates(input),
  setCaDomains: (h, input) => h.setCaDomains(input),
  downloadCa: (h, input) => h.downloadCa(input),
  importCertificate: (h, input) => h.importCertificate(input),
  removeCertificate: (h, input) => h.removeCertificate(input),
  renewCertificate: (h, input) => h.renewCertificate(input),
  getTrustPlan: (h, input) => h.getTrustPlan(input),
  trustCa: (h, input) => h.trustCa(input),
  untrustCa: (h, input) => h.untrustCa(input),
  getAcmeDirectory: (h, input) => h.getAcmeDirectory(input),
  addAcmeAccount: (h, input) => h.addAcmeAccount(input),
  updateAcmeAccount: (h, input) => h.updateAcmeAccount(input),
  rolloverAcmeKey: (h, input) => h.rolloverAcmeKey(input),
  removeAcmeAccount: (h, input) => h.removeAcmeAccount(input),
  addDnsProvider: (h, input) => h.addDnsProvider(input),
  updateDnsProvider: (h, input) => h.updateDnsProvider(input),
  removeDnsProvider: (h, input) => h.removeDnsProvider(input),
  testDnsProvider: (h, input) => h.testDnsProvider(input),
  preflightCertificate: (h, input) => h.preflightCertificate(input),
  listStreams: (h, input) => h.listStreams(input),
  getStream: (h, input) => h.getStream(input),
  addStream: (h, input) => h.addStream(input),
  updateStream: (h, input) => h.updateStream(input),
  removeStream: (h, input) => h.removeStream(input),
  getDiscovery: (h, input) => h.getDiscovery(input),
  probeHost: (h, input) => h.probeHost(input),
  getPresets: (h, input) => h.getPresets(input),
  getAppInfo: (h, input) => h.getAppInfo(input),
  getAccess: (h, input) => h.getAccess(input, DESKTOP),
  addAccessList: (h, input) => h.addAccessList(input),
  updateAccessList: (h, input) => h.updateAccessList(input),
  removeAccessList: (h, input) => h.removeAccessList(input),
  checkAccess: (h, input) => h.checkAccess(input),
  addAccessUser: (h, input) => h.addAccessUser(input),
  setAccessUserPassword: (h, input) => h.setAccessUserPassword(input),
  removeAccessUser: (h, input) => h.removeAccessUser(input),
  addSignInProvider: (h, input) => h.addSignInProvider(input),
  updateSignInProvider: (h, input) => h.updateSignInProvider(input),
  removeSignInProvider: (h, input) => h.removeSignInProvider(input),
  updateAccessSettings: (h, input) => h.updateAccessSettings(input, DESKTOP),
  liftBan: (h, input) => h.liftBan(input, DESKTOP),
  searchLog: (h, input) => h.searchLog(input),
  getHistory: (h, input) => h.getHistory(input),
  getHistorySummary: (h, input) => h.getHistorySummary(input),
  runDoctor: (h, input) => h.runDoctor(input, DESKTOP),
  getInspector: (h, input) => h.getInspector(input),
  setInspector: (h, input) => h.setInspector(input),
  clearInspector: (h, input) => h.clearInspector(input),
  replayRequest: (h, input) => h.replayRequest(input),
  getBackups: (h, input) => h.getBackups(input),
  updateBackupSchedule: (h, input) => h.updateBackupSchedule(input),
  createBackup: (h, input) => h.createBackup(input),
  previewRestore: (h, input) => h.previewRestore(input),
  restoreBackup: (h, input) => h.restoreBackup(input),
  previewNpmImport: (h, input) => h.previewNpmImport(input),
  applyNpmImport: (h, input) => h.applyNpmImport(input),
} satisfies InvokerTable;

const table: InvokerTable = invokers;

/**
 * The file a file: URL points at, as "host/path" decoded (so "%20" and " " compare equal; the host is
 * empty except for a Windows share); null for any other scheme.
 */
function fileLocation(url: string, platform: NodeJS.Platform): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'file:') return null;
  let location: string;
  try {
    location = `${parsed.host}${decodeURIComponent(parsed.pathname)}`;
  } catch {
    return null;
  }
  // Windows paths are case-insensitive, and Chromium and Node may spell the drive letter differently.
  return platform === 'win32' ? location.toLowerCase() : location;
}

/**
 * Whether a frame at `url` is our page at `expectedUrl` (the file:// URL of dist/renderer/index.html).
 * Query and fragment are ignored (the page may use them for its own state); anything else — another
 * file, another scheme, a page the window was navigated to — is refused.
 */
export function checkSender(url: string | null | undefined, expectedUrl: string, platform: NodeJS.Platform = process.platform): boolean {
  if (!url) return false;
  const actual = fileLocation(url, platform);
  const expected = fileLocation(expectedUrl, platform);
  return actual !== null && expected !== null && actual === expected;
}

/** The envelope for a failure: an ApiError as it is, anything else as `internal` without internals. */
export function errorEnvelope(error: unknown): IpcEnvelope {
  const apiError =
    error instanceof ApiError ? error : new ApiError('internal', 'Gatehouse hit an unexpected error; the details are in its log.');
  return { ok: false, ...apiError.toBody() };
}

export const forbiddenEnvelope = (): IpcEnvelope =>
  errorEnvelope(new ApiError('forbidden', 'This page is not allowed to use Gatehouse.'));

/**
 * Validates `input` for `member`, runs the handler and wraps the outcome. Never rejects: every failure
 * becomes an `{ ok: false }` envelope. `onUnexpected` sees errors that are not ApiErrors (bugs), for logging.
 */
export async function invokeMember<K extends ApiMember>(
  member: K,
  input: unknown,
  handlers: ApiHandlers,
  onUnexpected: (member: ApiMember, error: unknown) => void = () => {},
): Promise<IpcEnvelope> {
  try {
    const parsed = parseInput(member, input);
    const value: unknown = await table[member](handlers, parsed);
    return { ok: true, value };
  } catch (error) {
    if (!(error instanceof ApiError)) onUnexpected(member, error);
    return errorEnvelope(error);
  }
}
