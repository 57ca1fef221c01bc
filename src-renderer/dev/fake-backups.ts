// The fake Gatehouse's backups: a schedule, a folder of scheduled backups, "Back up now", and a
// restore preview with changes in every area, as the real core makes them. A passphrase of
// "wrong passphrase" is refused the way the core refuses one that does not open the backup.
import { ApiError } from '../../shared/api.js';
import { BackupScheduleSchema, defaultInsightSettings, type BackupDownload, type BackupFileInfo, type BackupSchedule, type BackupsOverview, type RestoreChange, type RestorePreview, type RestoreResult } from '../../shared/insight.js';

const HOUR_MS = 60 * 60 * 1000;

function fileName(time: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `gatehouse-${time.getUTCFullYear()}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}-${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}${pad(time.getUTCSeconds())}.gatehouse-backup`;
}

export const SAMPLE_RESTORE_CHANGES: RestoreChange[] = [
  { area: 'routes', what: 'route Jellyfin', change: 'same', detail: null },
  { area: 'routes', what: 'route Home Assistant', change: 'replace', detail: 'names ha.home.arpa → homeassistant.home.arpa' },
  { area: 'routes', what: 'route Nextcloud', change: 'add', detail: null },
  { area: 'routes', what: 'route Old wiki', change: 'remove', detail: null },
  { area: 'access', what: 'access list Family', change: 'same', detail: null },
  { area: 'users', what: 'user alice', change: 'replace', detail: 'a different password' },
  { area: 'local-ca', what: 'the local CA and its key', change: 'replace', detail: 'a different CA (3F:9A:22:C1:0B:7E:54:AA…): devices that trust the current one (A1:04:5C:77:E2:19:3D:60…) will warn until they trust the restored one' },
  { area: 'certificates', what: 'certificate of route Jellyfin (local CA)', change: 'replace', detail: 'now 7C:21:9B:04:EE:31:A6:0D…, restored 12:FA:80:3B:9C:4E:71:D5…' },
  { area: 'certificates', what: 'imported certificate media.example.com', change: 'add', detail: null },
  { area: 'acme', what: "ACME account Let's Encrypt", change: 'add', detail: null },
  { area: 'dns', what: 'DNS provider Cloudflare', change: 'add', detail: null },
  { area: 'secrets', what: 'credentials of the DNS provider "Cloudflare"', change: 'add', detail: null },
  { area: 'secrets', what: "the sticky cookie's key", change: 'replace', detail: null },
  { area: 'settings', what: 'proxy.httpsPort', change: 'replace', detail: '443 → 8443' },
];

export class FakeBackups {
  schedule: BackupSchedule = defaultInsightSettings().backups;
  passphraseSet = false;
  files: BackupFileInfo[] = [];
  lastRun: BackupsOverview['lastRun'] = null;

  /** A week of nightly backups in a folder, the last one a day ago. */
  seed(now = new Date()): void {
    this.schedule = { enabled: true, folder: '/srv/backups/gatehouse', everyHours: 24, keep: 7 };
    this.passphraseSet = true;
    this.files = Array.from({ length: 4 }, (_, i) => {
      const time = new Date(now.getTime() - (i + 1) * 24 * HOUR_MS);
      return { name: fileName(time), bytes: 48_000 + i * 310, time: time.toISOString() };
    });
    this.lastRun = { time: this.files[0]!.time, file: this.files[0]!.name, error: null };
  }

  overview(): BackupsOverview {
    const last = this.lastRun ? Date.parse(this.lastRun.time) : Date.now();
    return {
      schedule: structuredClone(this.schedule),
      passphraseSet: this.passphraseSet,
      lastRun: this.lastRun,
      nextRun: this.schedule.enabled && this.schedule.folder ? new Date(last + this.schedule.everyHours * HOUR_MS).toISOString() : null,
      files: structuredClone(this.files),
    };
  }

  updateSchedule(input: Partial<BackupSchedule> & { passphrase?: string }): BackupsOverview {
    const { passphrase, ...fields } = input;
    const parsed = BackupScheduleSchema.safeParse({ ...this.schedule, ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) });
    if (!parsed.success) throw new ApiError('invalid_input', parsed.error.issues[0]?.message ?? 'invalid schedule');
    const next = parsed.data;
    if (next.folder !== null && !next.folder.startsWith('/')) throw new ApiError('invalid_input', `choose a whole folder path, such as /srv/backups (${next.folder} is relative).`, { issues: [{ path: 'folder', message: 'a whole path' }] });
    if (next.enabled && next.folder === null) throw new ApiError('invalid_input', 'Choose a folder for scheduled backups.');
    if (next.enabled && !this.passphraseSet && !passphrase) throw new ApiError('invalid_input', 'Set a passphrase for scheduled backups: it is needed to restore them.');
    if (passphrase) this.passphraseSet = true;
    this.schedule = next;
    return this.overview();
  }

  create(): BackupDownload {
    const content = btoa('GATEHOUSE-BACKUP (the fake holds no real backup)');
    return {
      fileName: fileName(new Date()),
      contentBase64: content,
      bytes: 48_210,
      holds: ['the settings (7 routes, 2 streams, 2 access lists)', 'the local CA and its key', '5 route certificates from the local CA, with keys', '1 imported certificate with keys', "1 ACME account with its key", '1 DNS provider (1 with credentials)', '2 sign-in users (password hashes)', "the sticky cookie's key"],
    };
  }

  #open(input: { passphrase: string; fileName?: string | undefined }): void {
    if (input.passphrase === 'wrong passphrase') throw new ApiError('invalid_input', 'The passphrase does not open this backup. Check it (it is case-sensitive) and try again.', { issues: [{ path: 'passphrase', message: 'this passphrase does not open the backup' }] });
    if (input.fileName !== undefined && !this.files.some((file) => file.name === input.fileName)) throw new ApiError('not_found', `There is no backup ${input.fileName} in ${this.schedule.folder} any more.`);
  }

  preview(input: { passphrase: string; fileName?: string | undefined }): RestorePreview {
    this.#open(input);
    return {
      createdAt: this.files[0]?.time ?? new Date().toISOString(),
      gatehouseVersion: '0.1.0',
      changes: structuredClone(SAMPLE_RESTORE_CHANGES),
      summary: 'Restoring adds 6, replaces 6 and removes 1 item; 2 stay as they are. The local CA changes: every device must trust the restored CA. Everything replaced is kept in the data directory.',
    };
  }

  restore(input: { passphrase: string; fileName?: string | undefined }): RestoreResult {
    this.#open(input);
    return { applied: structuredClone(SAMPLE_RESTORE_CHANGES), keptIn: '/var/lib/gatehouse/replaced-20261206T101500Z' };
  }
}
