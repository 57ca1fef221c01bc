// getHistory and getHistorySummary: traffic and up/down history read from the store on disk
// (insight/history-store.ts, docs/history.md).
import type { ApiHandlers } from '../../../shared/api.js';
import type { HistoryStore } from '../insight/history-store.js';

type Members = 'getHistory' | 'getHistorySummary';

export interface HistoryDeps {
  history: HistoryStore;
}

export function historyHandlers({ history }: HistoryDeps): Pick<ApiHandlers, Members> {
  return {
    getHistory: async ({ routeId, range }) => history.history(routeId, range),
    getHistorySummary: async ({ range }) => history.summary(range),
  };
}
