// Binds the API to ipcMain: one channel per member, each through one wrapper that refuses any sender
// but our window's page and validates the input with the contract's schema. Events go the other way
// on one channel.
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { ApiMember } from '../../shared/api.js';
import type { Gateway } from '../core/gateway.js';
import { EVENT_CHANNEL, type IpcEnvelope } from './bridge.js';
import { checkSender, forbiddenEnvelope, invokeMember, invokers } from './ipc-guard.js';
import type { AppWindow } from './window.js';

export function setupIpc(gateway: Gateway, window: AppWindow): void {
  /** Our window's top frame, showing our page: nothing else (an iframe, a page navigated to) may call. */
  const isOurPage = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    const ours = window.webContents;
    return ours !== null && event.sender.id === ours.id && frame !== null && frame.parent === null && checkSender(frame.url, window.pageUrl);
  };

  const logUnexpected = (member: ApiMember, error: unknown) => console.error(`Gatehouse: ${member} failed unexpectedly`, error);

  const wrap =
    (member: ApiMember) =>
    (event: IpcMainInvokeEvent, input: unknown): Promise<IpcEnvelope> => {
      if (!isOurPage(event)) {
        console.warn(`Gatehouse refused ${member} from ${event.senderFrame?.url ?? 'a closed frame'}`);
        return Promise.resolve(forbiddenEnvelope());
      }
      return invokeMember(member, input, gateway.handlers, logUnexpected);
    };

  for (const member of Object.keys(invokers) as ApiMember[]) {
    ipcMain.handle(member, wrap(member));
  }

  // Every event, `log` included: the preload's bridge hands the page one stream and cannot tell main
  // which types the page listens to, so while the window exists the proxy gathers log batches for it.
  gateway.subscribe((event) => window.send(EVENT_CHANNEL, event));
}
