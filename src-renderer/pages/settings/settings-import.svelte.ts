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
  /**
   * Counts choices (and cancels): each choose() keeps the number it started with, and an answer
   * for an older one is dropped, so picking A then B quickly never shows B's name with A's preview.
   */
  #choice = 0;

  constructor(api: Pick<ApiClient, 'previewImport' | 'importSettings'>) {
    this.#api = api;
  }

  /** Reads `file` and asks for the preview; true when there is a preview to show (false also when a later choice replaced it). */
  async choose(file: ChosenFile): Promise<boolean> {
    this.cancel();
    const choice = this.#choice;
    const replaced = () => choice !== this.#choice;
    this.fileName = file.name;
    this.step = 'reading';
    try {
      const text = await file.text();
      if (replaced()) return false;
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        throw new ApiError('invalid_input', `"${file.name}" is not a Gatehouse settings file: it is not JSON (${error instanceof Error ? error.message : 'unreadable'}).`, {
          fix: 'Choose the .json file that "Export settings" saved.',
        });
      }
      this.step = 'previewing';
      const preview = await this.#api.previewImport({ document });
      if (replaced()) return false;
      this.preview = preview;
      this.#document = document;
      return true;
    } catch (error) {
      if (replaced()) return false;
      this.error = asApiError(error);
      this.preview = null;
      return false;
    } finally {
      if (!replaced()) this.step = 'idle';
    }
  }

  /** Applies the previewed file; true when the settings were replaced. */
  async apply(): Promise<boolean> {
    if (this.preview === null || this.step !== 'idle') return false;
    const choice = this.#choice;
    this.step = 'applying';
    try {
      await this.#api.importSettings({ document: this.#document });
      // A file chosen meanwhile is the person's next step: leave its preview alone.
      if (choice === this.#choice) this.cancel();
      return true;
    } catch (error) {
      if (choice === this.#choice) this.error = asApiError(error);
      return false;
    } finally {
      if (this.step === 'applying') this.step = 'idle';
    }
  }

  /** Forgets the chosen file, and any answer still on its way for it. */
  cancel(): void {
    this.#choice += 1;
    if (this.step === 'reading' || this.step === 'previewing') this.step = 'idle';
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
