// Placeholder (issue 17 foundation): replaced by the real handlers.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';

type Members = 'getInspector' | 'setInspector' | 'clearInspector' | 'replayRequest';

export function inspectorHandlers(): Pick<ApiHandlers, Members> {
  const notYet = async (): Promise<never> => {
    throw new ApiError('internal', 'This part of Gatehouse is not built yet.');
  };
  return { getInspector: notYet, setInspector: notYet, clearInspector: notYet, replayRequest: notYet };
}
