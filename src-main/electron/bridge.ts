// What crosses the Electron process boundary: the channel names and the shapes that travel on them.
// Shared by main (ipc.ts), the preload and the renderer's Electron transport, so it holds types and
// string constants only: the preload bundles it, and the renderer imports its types.
import type { ApiErrorBody, ApiEvent, ApiEventName, ApiMember } from '../../shared/api.js';

/** Every gateway event travels to the window on this one channel; each API member is its own channel. */
export const EVENT_CHANNEL = 'gatehouse:event';
/** The page tells main which event types it listens to (a list of names) whenever that set changes. */
export const WANTS_CHANNEL = 'gatehouse:wants';

/**
 * A member's answer over IPC. `ipcMain.handle` turns a thrown error into a bare message string, which
 * would lose the code, the fix and the field issues, so every answer resolves with one of these.
 */
export type IpcEnvelope = { ok: true; value: unknown } | ({ ok: false } & ApiErrorBody);

/** What the preload exposes as `window.gatehouse`. */
export interface GatehouseBridge {
  call(member: ApiMember, input: unknown): Promise<IpcEnvelope>;
  /** Delivers gateway events (of `types`, or all) until the returned function is called. */
  subscribe(listener: (event: ApiEvent) => void, types?: readonly ApiEventName[]): () => void;
}
