// Calling a gateway in-process the way both transports do (validate with the contract's schema,
// then the handler), and expecting a particular ApiError.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError, parseInput, type ApiInput, type ApiMember, type ApiResults } from '../../shared/api.js';
import type { Settings } from '../../shared/model.js';
import type { Gateway } from '../../src-main/core/gateway.js';

export function call<K extends ApiMember>(gateway: Gateway, member: K, input: ApiInput<K> | Record<string, never> = {}): Promise<ApiResults[K]> {
  const handler = gateway.handlers[member] as (input: unknown) => Promise<ApiResults[K]>;
  return handler(parseInput(member, input));
}

export async function rejectsWith(promise: Promise<unknown>, code: ApiError['code']): Promise<ApiError> {
  const error = await promise.then(
    () => assert.fail(`expected an ApiError "${code}"`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

/** DATA_DIR/settings.json as it is on disk. */
export async function settingsFile(dataDir: string): Promise<Settings> {
  return JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as Settings;
}
