// The API over Electron IPC, through the preload's `window.gatehouse` bridge. Answers arrive as
// envelopes (see src-main/electron/bridge.ts) so an error keeps its code, fix and field issues.
import { ApiError, type ApiTransport } from '../../shared/api.js';
import type { GatehouseBridge } from '../../src-main/electron/bridge.js';

export function createElectronTransport(bridge: GatehouseBridge): ApiTransport {
  return {
    async call(member, input) {
      const answer = await bridge.call(member, input);
      if (answer.ok) return answer.value;
      throw ApiError.fromBody(answer);
    },
    subscribe: (listener, types) => bridge.subscribe(listener, types),
  };
}
