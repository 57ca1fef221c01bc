// What restoring a backup would change, area by area, comparing the data directory as it is (read
// the same way a backup reads it) with the backup's contents. Pure: it reads nothing and writes
// nothing, so the preview and the restore's own answer are the same list.
import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { RestoreChange, RestorePreview } from '../../../shared/insight.js';
import type { Settings } from '../../../shared/model.js';
import { routeLabel } from '../gateway/route-edits.js';
import { fileText, type BackupContents } from './backup-contents.js';

type Change = RestoreChange['change'];

function byKey<T>(area: string, current: readonly T[], restored: readonly T[], key: (item: T) => string, label: (item: T) => string, detail?: (before: T, after: T) => string | null): RestoreChange[] {
  const before = new Map(current.map((item) => [key(item), item]));
  const after = new Map(restored.map((item) => [key(item), item]));
  const changes: RestoreChange[] = [];
  for (const [id, item] of after) {
    const old = before.get(id);
    const change: Change = old === undefined ? 'add' : isDeepStrictEqual(old, item) ? 'same' : 'replace';
    changes.push({ area, what: label(item), change, detail: change === 'replace' && old !== undefined ? (detail?.(old, item) ?? null) : null });
  }
  for (const [id, item] of before) if (!after.has(id)) changes.push({ area, what: label(item), change: 'remove', detail: null });
  return changes;
}

function fingerprint(pem: string | null): string | null {
  if (pem === null) return null;
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return null;
  }
}

function subjectOf(pem: string | null): string {
  if (pem === null) return '';
  try {
    const x509 = new X509Certificate(pem);
    const names = x509.subjectAltName?.split(', ').map((name) => name.replace(/^DNS:/, '')).join(', ');
    return names || x509.subject.replace(/\n/g, ', ');
  } catch {
    return 'an unreadable certificate';
  }
}

/** Files of one kind, grouped by their folder (a route's leaf, an import, an ACME account). */
function folders(contents: BackupContents, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of contents.files.filter((candidate) => candidate.path.startsWith(prefix))) {
    const folder = file.path.slice(prefix.length).split('/')[0]!;
    out.set(folder, (out.get(folder) ?? '') + `${file.path}:${file.base64};`);
  }
  return out;
}

function folderChanges(area: string, current: BackupContents, restored: BackupContents, prefix: string, label: (folder: string, contents: BackupContents) => string): RestoreChange[] {
  const before = folders(current, prefix);
  const after = folders(restored, prefix);
  const changes: RestoreChange[] = [];
  for (const [folder, content] of after) {
    const old = before.get(folder);
    const certPath = `${prefix}${folder}/cert.pem`;
    const detail = old !== undefined && old !== content ? `now ${fingerprint(fileText(current, certPath))?.slice(0, 23) ?? 'none'}…, restored ${fingerprint(fileText(restored, certPath))?.slice(0, 23) ?? 'none'}…` : null;
    changes.push({ area, what: label(folder, restored), change: old === undefined ? 'add' : old === content ? 'same' : 'replace', detail });
  }
  for (const folder of before.keys()) if (!after.has(folder)) changes.push({ area, what: label(folder, current), change: 'remove', detail: null });
  return changes;
}

interface StoredUsers {
  users: { name: string; hash: string }[];
}

function usersOf(contents: BackupContents): { name: string; hash: string }[] {
  const text = fileText(contents, 'access-users.json');
  if (text === null) return [];
  try {
    return (JSON.parse(text) as StoredUsers).users.map(({ name, hash }) => ({ name, hash }));
  } catch {
    return [];
  }
}

/** Each general setting that differs (routes, streams, lists, providers, accounts are their own areas). */
function settingsChanges(current: Settings, restored: Settings): RestoreChange[] {
  const strip = (settings: Settings) => {
    const { routes: _r, streams: _s, version: _v, access, acme, ...rest } = settings;
    const { lists: _l, providers: _p, ...accessRest } = access;
    const { accounts: _a, dnsProviders: _d, ...acmeRest } = acme;
    return { ...rest, access: accessRest, acme: acmeRest };
  };
  const changes: RestoreChange[] = [];
  const walk = (before: unknown, after: unknown, path: string) => {
    const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
    if (isObject(before) && isObject(after)) {
      for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) walk(before[key], after[key], path ? `${path}.${key}` : key);
      return;
    }
    if (!isDeepStrictEqual(before, after)) changes.push({ area: 'settings', what: path, change: 'replace', detail: `${short(before)} → ${short(after)}` });
  };
  walk(strip(current), strip(restored), '');
  return changes;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function secretLabel(id: string, settings: Settings): string {
  if (id === 'backup-passphrase') return "the scheduled backups' passphrase";
  if (id.startsWith('dns-')) {
    const provider = settings.acme.dnsProviders.find((candidate) => `dns-${candidate.id}` === id);
    return `credentials of the DNS provider ${provider ? `"${provider.label}"` : id.slice(4)}`;
  }
  return `the secret ${id}`;
}

export function restoreChanges(current: BackupContents, restored: BackupContents): RestoreChange[] {
  const now = current.settings;
  const then = restored.settings;
  const changes: RestoreChange[] = [];

  changes.push(...byKey('routes', now.routes, then.routes, (route) => route.id, (route) => `route ${routeLabel(route)}`, (before, after) => (before.names.join() !== after.names.join() ? `names ${before.names.join(', ')} → ${after.names.join(', ')}` : 'its settings differ')));
  changes.push(...byKey('streams', now.streams, then.streams, (stream) => stream.id, (stream) => `stream ${stream.title}`));
  changes.push(...byKey('access', now.access.lists, then.access.lists, (list) => list.id, (list) => `access list ${list.name}`));
  changes.push(...byKey('access', now.access.providers, then.access.providers, (provider) => provider.id, (provider) => `sign-in provider ${provider.name}`));
  changes.push(...byKey('users', usersOf(current), usersOf(restored), (user) => user.name, (user) => `user ${user.name}`, () => 'a different password'));

  const caNow = fingerprint(fileText(current, 'certs/ca.pem'));
  const caThen = fingerprint(fileText(restored, 'certs/ca.pem'));
  if (caThen !== null) {
    const change: Change = caNow === null ? 'add' : caNow === caThen ? 'same' : 'replace';
    const detail =
      change === 'replace'
        ? `a different CA (${caThen.slice(0, 23)}…): devices that trust the current one (${caNow!.slice(0, 23)}…) will warn until they trust the restored one, which is the one they trusted before if this backup comes from the machine they know`
        : change === 'add'
          ? `the CA ${caThen.slice(0, 23)}…: devices that trusted it before trust this Gatehouse again`
          : null;
    changes.push({ area: 'local-ca', what: 'the local CA and its key', change, detail });
  }
  const routeName = (contents: BackupContents) => (folder: string) => {
    const route = contents.settings.routes.find((candidate) => candidate.id === folder);
    return route ? routeLabel(route) : folder;
  };
  changes.push(...folderChanges('certificates', current, restored, 'certs/routes/', (folder, contents) => `certificate of route ${routeName(contents)(folder)} (local CA)`));
  changes.push(...folderChanges('certificates', current, restored, 'certs/custom/', (folder, contents) => {
    const meta = fileText(contents, `certs/custom/${folder}/meta.json`);
    const label = meta ? (JSON.parse(meta) as { label?: string }).label : undefined;
    return `imported certificate ${label || subjectOf(fileText(contents, `certs/custom/${folder}/cert.pem`)) || folder}`;
  }));
  changes.push(...folderChanges('acme', current, restored, 'acme/certificates/', (folder, contents) => `ACME certificate of route ${routeName(contents)(folder)}`));
  changes.push(...byKey('acme', now.acme.accounts, then.acme.accounts, (account) => account.id, (account) => `ACME account ${account.label}`));
  changes.push(...folderChanges('acme', current, restored, 'acme/accounts/', (folder, contents) => `key of the ACME account ${contents.settings.acme.accounts.find((account) => account.id === folder)?.label ?? folder}`));
  changes.push(...byKey('dns', now.acme.dnsProviders, then.acme.dnsProviders, (provider) => provider.id, (provider) => `DNS provider ${provider.label}`));
  changes.push(...byKey('secrets', current.secrets, restored.secrets, (secret) => secret.id, (secret) => secretLabel(secret.id, then.acme.dnsProviders.length ? then : now), () => 'a different value'));
  for (const [path, label] of [
    ['sticky-cookie.key', "the sticky cookie's key"],
    ['crowdsec-key', "the CrowdSec bouncer's key"],
  ] as const) {
    const before = fileText(current, path);
    const after = fileText(restored, path);
    if (after === null && before === null) continue;
    changes.push({ area: 'secrets', what: label, change: after === null ? 'remove' : before === null ? 'add' : before === after ? 'same' : 'replace', detail: null });
  }
  changes.push(...settingsChanges(now, then));
  return changes;
}

export function previewOf(current: BackupContents, restored: BackupContents): RestorePreview {
  const changes = restoreChanges(current, restored);
  const count = (change: Change) => changes.filter((item) => item.change === change).length;
  const caReplaced = changes.some((item) => item.area === 'local-ca' && item.change === 'replace');
  const summary =
    `Restoring adds ${count('add')}, replaces ${count('replace')} and removes ${count('remove')} item${count('remove') === 1 ? '' : 's'}; ${count('same')} stay as they are.` +
    (caReplaced ? ' The local CA changes: every device must trust the restored CA.' : '') +
    ' Everything replaced is kept in the data directory.';
  return { createdAt: restored.createdAt, gatehouseVersion: restored.gatehouseVersion, changes, summary };
}
