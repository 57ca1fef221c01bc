// The backup members of the API: back up now (a download), the schedule, the preview of a restore,
// and the restore. Every one runs in the gateway's change queue, so a backup never reads the data
// directory half-way through a change, and a restore never races one.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ApiError, type ApiHandlers, type ApiParsedInput } from '../../../shared/api.js';
import { BackupScheduleSchema, type BackupsOverview, type RestoreChange } from '../../../shared/insight.js';
import type { Settings } from '../../../shared/model.js';
import type { SecretStore } from '../certs/acme/secret-store.js';
import { BackupOpenError, openBackup, sealBackup } from '../insight/backup-envelope.js';
import { collectContents, readContents, type BackupContents } from '../insight/backup-contents.js';
import { BACKUP_FILE_PATTERN, BackupScheduler, backupFileName, checkFolder, listBackups } from '../insight/backup-schedule.js';
import { keepAside, replaceContents } from '../insight/restore-files.js';
import { previewOf } from '../insight/restore-preview.js';

type Members = 'getBackups' | 'updateBackupSchedule' | 'createBackup' | 'previewRestore' | 'restoreBackup';

/** The secret store's id of the scheduled backups' passphrase. */
export const BACKUP_PASSPHRASE_SECRET = 'backup-passphrase';

export interface BackupDeps {
  dataDir: string;
  current: () => Settings;
  secrets: SecretStore;
  change: <T>(task: () => Promise<T>) => Promise<T>;
  persist: (edit: (current: Settings) => Settings) => Promise<Settings>;
  gatehouseVersion: string;
  /**
   * The restored files are in place: reopen what reads them (certificates, ACME, access, the sticky
   * key), then store and apply `settings`; resolves when every route is served again.
   */
  restored: (settings: Settings) => Promise<void>;
  now?: () => Date;
  /** How long an hour of the schedule lasts, ms (tests). Default: an hour. */
  hourMs?: number;
}

export interface BackupService {
  handlers: Pick<ApiHandlers, Members>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a backup holds, in words, for the person saving it. */
export function holdsOf(contents: BackupContents): string[] {
  const { settings } = contents;
  const files = (prefix: string) => new Set(contents.files.filter((file) => file.path.startsWith(prefix)).map((file) => file.path.slice(prefix.length).split('/')[0])).size;
  const has = (path: string) => contents.files.some((file) => file.path === path);
  const users = (() => {
    const file = contents.files.find((candidate) => candidate.path === 'access-users.json');
    if (!file) return 0;
    try {
      return (JSON.parse(Buffer.from(file.base64, 'base64').toString('utf8')) as { users: unknown[] }).users.length;
    } catch {
      return 0;
    }
  })();
  const credentials = contents.secrets.filter((secret) => secret.id.startsWith('dns-')).length;
  const holds = [`the settings (${count(settings.routes.length, 'route')}, ${count(settings.streams.length, 'stream')}, ${count(settings.access.lists.length, 'access list')})`];
  if (has('certs/ca-key.pem')) holds.push('the local CA and its key');
  if (files('certs/routes/') > 0) holds.push(`${count(files('certs/routes/'), 'route certificate')} from the local CA, with keys`);
  if (files('certs/custom/') > 0) holds.push(`${count(files('certs/custom/'), 'imported certificate')} with keys`);
  if (settings.acme.accounts.length > 0) holds.push(`${count(settings.acme.accounts.length, 'ACME account')} with ${settings.acme.accounts.length === 1 ? 'its key' : 'their keys'}`);
  if (files('acme/certificates/') > 0) holds.push(`${count(files('acme/certificates/'), 'ACME certificate')} with keys`);
  if (settings.acme.dnsProviders.length > 0) holds.push(`${count(settings.acme.dnsProviders.length, 'DNS provider')} (${count(credentials, 'with credentials', 'with credentials')})`);
  if (users > 0) holds.push(`${count(users, 'sign-in user')} (password hashes)`);
  if (has('sticky-cookie.key')) holds.push("the sticky cookie's key");
  if (has('crowdsec-key')) holds.push("the CrowdSec bouncer's key");
  for (const left of contents.leftOut) holds.push(`left out: ${left}`);
  return holds;
}

function openError(error: unknown): never {
  if (error instanceof BackupOpenError) {
    const issues = error.reason === 'wrong-passphrase' ? [{ path: 'passphrase', message: 'this passphrase does not open the backup' }] : [];
    throw new ApiError('invalid_input', error.message, { issues });
  }
  throw error;
}

export function backupService(deps: BackupDeps): BackupService {
  const now = deps.now ?? (() => new Date());
  const schedule = () => deps.current().insight.backups;

  const makeContents = () => collectContents({ dataDir: deps.dataDir, settings: deps.current(), secrets: deps.secrets, gatehouseVersion: deps.gatehouseVersion, now: now() });
  const scheduler = new BackupScheduler({
    dataDir: deps.dataDir,
    schedule,
    passphrase: () => deps.secrets.get(BACKUP_PASSPHRASE_SECRET).catch(() => null),
    makeBackup: (passphrase) => deps.change(async () => sealBackup(await makeContents(), passphrase)),
    now,
    ...(deps.hourMs !== undefined ? { hourMs: deps.hourMs } : {}),
  });

  async function overview(): Promise<BackupsOverview> {
    const current = schedule();
    const files = current.folder ? await listBackups(current.folder).catch(() => []) : [];
    return { schedule: structuredClone(current), passphraseSet: deps.secrets.has(BACKUP_PASSPHRASE_SECRET), lastRun: scheduler.lastRun, nextRun: scheduler.nextRun, files };
  }

  /** The backup named by the input, opened and checked (nothing written). */
  async function readSource(input: ApiParsedInput<'previewRestore'>): Promise<BackupContents> {
    let file: Buffer;
    if (input.fileName !== undefined) {
      const folder = schedule().folder;
      if (folder === null) throw new ApiError('invalid_input', 'No folder is chosen for scheduled backups; pick the backup file instead.');
      if (!BACKUP_FILE_PATTERN.test(input.fileName)) throw new ApiError('invalid_input', `${input.fileName} is not one of Gatehouse's scheduled backups.`, { issues: [{ path: 'fileName', message: 'not a scheduled backup' }] });
      file = await fs.readFile(join(folder, input.fileName)).catch(() => {
        throw new ApiError('not_found', `There is no backup ${input.fileName} in ${folder} any more.`);
      });
    } else {
      file = Buffer.from(input.contentBase64 ?? '', 'base64');
    }
    const raw = await openBackup(file, input.passphrase).catch(openError);
    return readContents(raw);
  }

  /** A restored schedule whose folder this machine lacks is turned off (said in the preview). */
  async function fitSchedule(contents: BackupContents): Promise<{ contents: BackupContents; notes: RestoreChange[] }> {
    const restored = contents.settings.insight.backups;
    if (!restored.enabled || restored.folder === null) return { contents, notes: [] };
    try {
      await checkFolder(restored.folder);
      return { contents, notes: [] };
    } catch (error) {
      const settings = { ...contents.settings, insight: { ...contents.settings.insight, backups: { ...restored, enabled: false } } };
      const note: RestoreChange = { area: 'settings', what: 'scheduled backups', change: 'replace', detail: `turned off: ${(error as Error).message.replace(/\.$/, '')}; choose a folder on the Backup page` };
      return { contents: { ...contents, settings }, notes: [note] };
    }
  }

  const current = () => collectContents({ dataDir: deps.dataDir, settings: deps.current(), secrets: deps.secrets, gatehouseVersion: deps.gatehouseVersion });

  const handlers: Pick<ApiHandlers, Members> = {
    getBackups: () => overview(),

    updateBackupSchedule: ({ passphrase, ...fields }) =>
      deps.change(async () => {
        const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
        const parsed = BackupScheduleSchema.safeParse({ ...schedule(), ...defined });
        if (!parsed.success) throw new ApiError('invalid_input', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
        const next = parsed.data;
        if (next.folder === '') next.folder = null;
        if (next.folder !== null && (fields.folder !== undefined || next.enabled)) await checkFolder(next.folder);
        if (next.enabled && next.folder === null) throw new ApiError('invalid_input', 'Choose a folder for scheduled backups.', { issues: [{ path: 'folder', message: 'choose a folder' }] });
        if (next.enabled && passphrase === undefined && !deps.secrets.has(BACKUP_PASSPHRASE_SECRET)) {
          throw new ApiError('invalid_input', 'Set a passphrase for scheduled backups: it is needed to restore them.', { issues: [{ path: 'passphrase', message: 'set a passphrase' }] });
        }
        if (passphrase !== undefined) await deps.secrets.set(BACKUP_PASSPHRASE_SECRET, passphrase);
        await deps.persist((settings) => ({ ...settings, insight: { ...settings.insight, backups: next } }));
        await scheduler.reschedule();
        return overview();
      }),

    createBackup: ({ passphrase }) =>
      deps.change(async () => {
        const contents = await makeContents();
        const content = await sealBackup(contents, passphrase);
        return { fileName: backupFileName(now()), contentBase64: content.toString('base64'), bytes: content.length, holds: holdsOf(contents) };
      }),

    previewRestore: async (input) => {
      const { contents, notes } = await fitSchedule(await readSource(input));
      return deps.change(async () => {
        const preview = previewOf(await current(), contents);
        return { ...preview, changes: [...preview.changes, ...notes] };
      });
    },

    restoreBackup: async ({ confirm: _confirm, ...source }) => {
      // Checked completely (envelope, paths, settings, key pairs) before anything is touched.
      const { contents, notes } = await fitSchedule(await readSource(source));
      return deps.change(async () => {
        const previous = await current();
        const applied = [...previewOf(previous, contents).changes, ...notes];
        const keptIn = join(deps.dataDir, `replaced-${now().toISOString().replaceAll(':', '').replace(/\.\d+Z$/, 'Z')}`);
        try {
          await keepAside(deps.dataDir, keptIn);
        } catch (error) {
          throw new ApiError('internal', `Gatehouse could not keep what the restore would replace in ${keptIn} (${(error as Error).message}), so nothing was restored.`);
        }
        try {
          await replaceContents(deps.dataDir, contents, previous, deps.secrets);
        } catch (error) {
          throw new ApiError('internal', `Restoring failed while writing the files (${(error as Error).message}); the previous files were put back, and a copy is in ${keptIn}.`);
        }
        try {
          await deps.restored(contents.settings);
        } catch (error) {
          // Settings refused (a read-only newer file) or a service that cannot reopen: back to what was.
          await replaceContents(deps.dataDir, previous, contents, deps.secrets).catch(() => undefined);
          await deps.restored(previous.settings).catch(() => undefined);
          if (error instanceof ApiError) throw error;
          throw new ApiError('internal', `Restoring failed (${(error as Error).message}); the previous files were put back, and a copy is in ${keptIn}.`);
        }
        await scheduler.reschedule();
        return { applied, keptIn };
      });
    },
  };

  return {
    handlers,
    start: () => scheduler.start(),
    close: () => scheduler.close(),
  };
}
