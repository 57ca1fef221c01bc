// searchLog: the access log on disk (access.log and its rotated files), searched newest first
// (insight/log-search.ts). Lines still waiting in memory are written first, so a search sees every
// request logged before it was asked.
import type { ApiHandlers } from '../../../shared/api.js';
import { searchAccessLog, type LogSearchSource } from '../insight/log-search.js';

type Members = 'searchLog';

export function logSearchHandlers(source: LogSearchSource): Pick<ApiHandlers, Members> {
  return { searchLog: async (input) => searchAccessLog(input, source) };
}
