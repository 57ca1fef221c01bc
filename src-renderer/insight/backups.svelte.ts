// The Backup page's state: the schedule and its folder's backups, "Back up now", and a restore in
// two steps (preview, then restore with a confirmation). Nothing is restored until the person saw
// the preview of exactly the file and passphrase that will be restored.
import type { ApiClient, ApiError } from '../../shared/api.js';
import { BACKUP_PASSPHRASE_MIN, type BackupDownload, type BackupsOverview, type RestoreChange, type RestorePreview, type RestoreResult } from '../../shared/insight.js';
import { asApiError } from '../app/errors.js';

type BackupApi = Pick<ApiClient, 'getBackups' | 'updateBackupSchedule' | 'createBackup' | 'previewRestore' | 'restoreBackup'>;

/** Where the backup to restore comes from: a picked file (its bytes) or a scheduled one (its name). */
export type RestoreSource = { kind: 'file'; name: string; contentBase64: string } | { kind: 'scheduled'; name: string };

export const AREA_TITLES: Record<string, string> = {
  routes: 'Routes',
  streams: 'Streams',
  access: 'Access lists and sign-in providers',
  users: 'Sign-in users',
  'local-ca': 'Local CA',
  certificates: 'Certificates',
  acme: 'ACME accounts and certificates',
  dns: 'DNS providers',
  secrets: 'Secrets',
  settings: 'General settings',
};

/** The preview's changes grouped by area, in the order above; "same" items only counted. */
export function groupChanges(changes: readonly RestoreChange[]): { area: string; title: string; changes: RestoreChange[]; same: number }[] {
  const areas = [...Object.keys(AREA_TITLES), ...new Set(changes.map((change) => change.area).filter((area) => !(area in AREA_TITLES)))];
  return areas
    .map((area) => {
      const inArea = changes.filter((change) => change.area === area);
      return { area, title: AREA_TITLES[area] ?? area, changes: inArea.filter((change) => change.change !== 'same'), same: inArea.filter((change) => change.change === 'same').length };
    })
    .filter((group) => group.changes.length + group.same > 0);
}

/** Reads a picked file as base64 (the API's way of carrying bytes). */
export async function fileAsBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function passphraseProblem(passphrase: string, again: string): string | null {
  if (passphrase.length < BACKUP_PASSPHRASE_MIN) return `A backup passphrase has at least ${BACKUP_PASSPHRASE_MIN} characters.`;
  if (passphrase !== again) return 'The two passphrases differ; type the same one twice.';
  return null;
}

export class Backups {
  overview = $state.raw<BackupsOverview | null>(null);
  loadError = $state.raw<ApiError | null>(null);

  creating = $state(false);
  created = $state.raw<BackupDownload | null>(null);
  createError = $state.raw<ApiError | null>(null);

  savingSchedule = $state(false);
  scheduleError = $state.raw<ApiError | null>(null);

  source = $state.raw<RestoreSource | null>(null);
  previewing = $state(false);
  preview = $state.raw<RestorePreview | null>(null);
  restoring = $state(false);
  restored = $state.raw<RestoreResult | null>(null);
  restoreError = $state.raw<ApiError | null>(null);
  /** The passphrase the preview was made with: the restore sends the same one. */
  #previewPassphrase = '';

  readonly #api: BackupApi;

  constructor(api: BackupApi) {
    this.#api = api;
  }

  async load(): Promise<void> {
    try {
      this.overview = await this.#api.getBackups();
      this.loadError = null;
    } catch (error) {
      this.loadError = asApiError(error);
    }
  }

  /** Makes a backup; the caller saves `created` as a download. */
  async create(passphrase: string): Promise<BackupDownload | null> {
    if (this.creating) return null;
    this.creating = true;
    try {
      this.created = await this.#api.createBackup({ passphrase });
      this.createError = null;
      return this.created;
    } catch (error) {
      this.createError = asApiError(error);
      return null;
    } finally {
      this.creating = false;
    }
  }

  async saveSchedule(input: { enabled: boolean; folder: string; everyHours: number; keep: number; passphrase: string }): Promise<boolean> {
    if (this.savingSchedule) return false;
    this.savingSchedule = true;
    try {
      const { passphrase, folder, ...rest } = input;
      this.overview = await this.#api.updateBackupSchedule({ ...rest, folder: folder.trim() === '' ? null : folder.trim(), ...(passphrase ? { passphrase } : {}) });
      this.scheduleError = null;
      return true;
    } catch (error) {
      this.scheduleError = asApiError(error);
      return false;
    } finally {
      this.savingSchedule = false;
    }
  }

  choose(source: RestoreSource | null): void {
    this.source = source;
    this.preview = null;
    this.restored = null;
    this.restoreError = null;
  }

  #sourceInput(passphrase: string) {
    const source = this.source!;
    return source.kind === 'file' ? { contentBase64: source.contentBase64, passphrase } : { fileName: source.name, passphrase };
  }

  async previewRestore(passphrase: string): Promise<boolean> {
    if (!this.source || this.previewing) return false;
    this.previewing = true;
    try {
      this.preview = await this.#api.previewRestore(this.#sourceInput(passphrase));
      this.#previewPassphrase = passphrase;
      this.restoreError = null;
      return true;
    } catch (error) {
      this.preview = null;
      this.restoreError = asApiError(error);
      return false;
    } finally {
      this.previewing = false;
    }
  }

  async restore(): Promise<boolean> {
    if (!this.source || !this.preview || this.restoring) return false;
    this.restoring = true;
    try {
      this.restored = await this.#api.restoreBackup({ ...this.#sourceInput(this.#previewPassphrase), confirm: true });
      this.preview = null;
      this.restoreError = null;
      await this.load();
      return true;
    } catch (error) {
      this.restoreError = asApiError(error);
      return false;
    } finally {
      this.restoring = false;
    }
  }
}
