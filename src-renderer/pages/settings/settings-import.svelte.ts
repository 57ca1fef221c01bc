// Import of a settings file: read it, ask Gatehouse what it would change (nothing changes yet), show
// that, and only on "Apply import" replace the settings. A file that cannot be used changes nothing.
import { ApiError, type ApiClient } from '../../../shared/api.js';
import type { ImportPreview } from '../../../shared/status.js';
import { asApiError } from '../../app/errors.js';

/** What the page needs of a chosen file (a File in the browser). */
export interface ChosenFile {
  name: string;
  text(): Promise<string>;
}

export type ImportStep = 'idle' | 'reading' | 'previewing' | 'applying';

export class SettingsImport {
  step = $state<ImportStep>('idle');
  fileName = $state<string | null>(null);
  preview = $state.raw<ImportPreview | null>(null);
  error = $state.raw<ApiError | null>(null);

  readonly #api: Pick<ApiClient, 'previewImport' | 'importSettings'>;
  /** The parsed file, kept between the preview and "Apply import" so the same document is applied. */
  #document: unknown = undefined;

  constructor(api: Pick<ApiClient, 'previewImport' | 'importSettings'>) {
    this.#api = api;
  }

  /** Reads `file` and asks for the preview; true when there is a preview to show. */
  async choose(file: ChosenFile): Promise<boolean> {
    this.cancel();
    this.fileName = file.name;
    this.step = 'reading';
    try {
      const text = await file.text();
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        throw new ApiError('invalid_input', `"${file.name}" is not a Gatehouse settings file: it is not JSON (${error instanceof Error ? error.message : 'unreadable'}).`, {
          fix: 'Choose the .json file that "Export settings" saved.',
        });
      }
      this.step = 'previewing';
      this.preview = await this.#api.previewImport({ document });
      this.#document = document;
      return true;
    } catch (error) {
      this.error = asApiError(error);
      this.preview = null;
      return false;
    } finally {
      this.step = 'idle';
    }
  }

  /** Applies the previewed file; true when the settings were replaced. */
  async apply(): Promise<boolean> {
    if (this.preview === null || this.step !== 'idle') return false;
    this.step = 'applying';
    try {
      await this.#api.importSettings({ document: this.#document });
      this.cancel();
      return true;
    } catch (error) {
      this.error = asApiError(error);
      return false;
    } finally {
      this.step = 'idle';
    }
  }

  cancel(): void {
    this.preview = null;
    this.fileName = null;
    this.error = null;
    this.#document = undefined;
  }
}

/** "proxy.httpPort: 80 → 8080": a changed setting as the preview lists it. */
export function settingChange(change: ImportPreview['settings'][number]): string {
  return `${change.path}: ${show(change.before)} → ${show(change.after)}`;
}

function show(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map(show).join(', ');
  if (value === null || value === undefined) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
