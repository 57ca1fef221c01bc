// Placeholder (issue 17 foundation): replaced by the real handlers.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';

type Members = 'getHistory' | 'getHistorySummary';

export function historyHandlers(): Pick<ApiHandlers, Members> {
  const notYet = async (): Promise<never> => {
    throw new ApiError('internal', 'This part of Gatehouse is not built yet.');
  };
  return { getHistory: notYet, getHistorySummary: notYet };
}
