// Binds the API to ipcMain: one channel per member, each through one wrapper that refuses any sender
// but our window's page and validates the input with the contract's schema. Events go the other way
// on one channel.
import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import type { ApiEventName, ApiMember } from '../../shared/api.js';
import type { Gateway } from '../core/gateway.js';
import { EVENT_CHANNEL, WANTS_CHANNEL, type IpcEnvelope } from './bridge.js';
import { DEFAULT_WANTED, parseWantedTypes } from './event-wants.js';
import { checkSender, forbiddenEnvelope, invokeMember, invokers } from './ipc-guard.js';
import type { AppWindow } from './window.js';

export function setupIpc(gateway: Gateway, window: AppWindow): void {
  /** Our window's top frame, showing our page: nothing else (an iframe, a page navigated to) may call. */
  const isOurPage = (event: IpcMainInvokeEvent | IpcMainEvent): boolean => {
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

  // Events go to the window by the types its page listens to (the preload says, see event-wants.ts),
  // so the proxy gathers log batches only while a page shows the log. Until the page has spoken:
  // everything but the log.
  let wanted: readonly ApiEventName[] = DEFAULT_WANTED;
  let unsubscribe = gateway.subscribe((event) => window.send(EVENT_CHANNEL, event), wanted);
  ipcMain.on(WANTS_CHANNEL, (event: IpcMainEvent, types: unknown) => {
    if (!isOurPage(event)) return void console.warn(`Gatehouse ignored an event subscription from ${event.senderFrame?.url ?? 'a closed frame'}`);
    const parsed = parseWantedTypes(types);
    if (!parsed) return void console.warn('Gatehouse ignored an event subscription that is not a list of event names');
    if (parsed.join(',') === wanted.join(',')) return;
    wanted = parsed;
    unsubscribe();
    unsubscribe = gateway.subscribe((apiEvent) => window.send(EVENT_CHANNEL, apiEvent), wanted);
  });
}
