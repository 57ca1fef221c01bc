// Imports the chosen items of an NPM preview through the gateway's own handlers (importCertificate,
// addAccessList, addAccessUser, addRoute, addStream), each input parsed by the API's schema first,
// so an imported route is checked exactly like one made by hand. Certificates and lists go first,
// since hosts point at them; an item that fails is reported with its reason and the rest go on.
import { ApiError, parseInput, type ApiHandlers, type ApiMember } from '../../../shared/api.js';
import type { NpmImportItem, NpmImportPreview, NpmImportResult } from '../../../shared/insight.js';
import type { Needed, NpmPlan } from './npm-import-preview.js';

export type NpmImportHandlers = Pick<ApiHandlers, 'importCertificate' | 'addAccessList' | 'addAccessUser' | 'addRoute' | 'addStream'>;

const ORDER: NpmImportItem['kind'][] = ['certificate', 'access-list', 'proxy-host', 'stream', 'redirection-host'];

/** The chosen keys with everything they need, in the order they are imported. */
export function withNeeds(preview: NpmImportPreview, keys: readonly string[]): { chosen: NpmImportItem[]; unknown: string[] } {
  const byKey = new Map(preview.items.map((entry) => [entry.key, entry]));
  const chosen = new Set<string>();
  const unknown: string[] = [];
  const add = (key: string) => {
    if (chosen.has(key)) return;
    const entry = byKey.get(key);
    if (!entry) return void unknown.push(key);
    chosen.add(key);
    entry.needs.forEach(add);
  };
  keys.forEach(add);
  const items = [...chosen].map((key) => byKey.get(key)!);
  items.sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || a.npmId - b.npmId);
  return { chosen: items, unknown: [...new Set(unknown)] };
}

function reasonOf(error: unknown): string {
  if (error instanceof ApiError) {
    const issues = error.details.issues?.map((issue) => `${issue.path}: ${issue.message}`) ?? [];
    return issues.length > 0 ? issues.join('; ') : error.message;
  }
  return (error as Error).message ?? String(error);
}

export async function applyNpmPlans(
  preview: NpmImportPreview,
  plans: ReadonlyMap<string, NpmPlan>,
  keys: readonly string[],
  handlers: NpmImportHandlers,
): Promise<NpmImportResult> {
  const result: NpmImportResult = { imported: [], skipped: [] };
  const { chosen, unknown } = withNeeds(preview, keys);
  for (const key of unknown) result.skipped.push({ key, reason: 'This item is not in the NPM data any more: preview again.' });
  // What each imported key became in Gatehouse, for the hosts that point at it.
  const made = new Map<string, string>();
  const failed = new Map<string, string>();
  const call = <K extends ApiMember & keyof NpmImportHandlers>(member: K, input: unknown) =>
    (handlers[member] as (input: unknown) => ReturnType<NpmImportHandlers[K]>)(parseInput(member, input));

  const resolve = (needed: Needed | null, what: string): string | null => {
    if (needed === null) return null;
    if ('existingId' in needed) return needed.existingId;
    const id = made.get(needed.key);
    if (id === undefined) throw new Error(`its ${what} (${needed.key}) could not be imported: ${failed.get(needed.key) ?? 'it was not chosen'}`);
    return id;
  };

  for (const entry of chosen) {
    const plan = plans.get(entry.key);
    if (!plan || entry.maps === 'no') {
      result.skipped.push({ key: entry.key, reason: entry.notes.at(-1) ?? 'Gatehouse cannot import it.' });
      continue;
    }
    try {
      switch (plan.kind) {
        case 'certificate': {
          const certificate = await call('importCertificate', plan.input);
          made.set(entry.key, certificate.id);
          result.imported.push({ key: entry.key, kind: entry.kind, id: certificate.id });
          break;
        }
        case 'access-list': {
          const list = await call('addAccessList', plan.input);
          made.set(entry.key, list.id);
          result.imported.push({ key: entry.key, kind: entry.kind, id: list.id });
          for (const user of plan.users) {
            try {
              await call('addAccessUser', user);
            } catch (error) {
              result.skipped.push({ key: entry.key, reason: `The user "${user.name}" was not added: ${reasonOf(error)}` });
            }
          }
          break;
        }
        case 'proxy-host': {
          const certificateId = resolve(plan.certificate, 'certificate');
          const listId = resolve(plan.list, 'access list');
          const tls = certificateId === null ? undefined : { ...plan.route.tls, mode: 'custom' as const, certificateId };
          const route = await call('addRoute', {
            ...plan.route,
            tls,
            access: { lists: listId === null ? [] : [listId], signIn: plan.signInUsers ? { method: 'basic', users: plan.signInUsers } : { method: 'none' } },
          });
          result.imported.push({ key: entry.key, kind: entry.kind, id: route.id });
          break;
        }
        case 'stream': {
          for (const input of plan.streams) {
            const view = await call('addStream', input);
            result.imported.push({ key: entry.key, kind: entry.kind, id: view.stream.id });
          }
          break;
        }
      }
    } catch (error) {
      const reason = reasonOf(error);
      failed.set(entry.key, reason);
      result.skipped.push({ key: entry.key, reason });
    }
  }
  return result;
}
