// Placeholder (issue 17 foundation): replaced by the real handlers.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';

type Members = 'runDoctor';

export function doctorHandlers(): Pick<ApiHandlers, Members> {
  const notYet = async (): Promise<never> => {
    throw new ApiError('internal', 'This part of Gatehouse is not built yet.');
  };
  return { runDoctor: notYet };
}
