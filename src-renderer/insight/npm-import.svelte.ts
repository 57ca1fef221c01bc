// Moving in from Nginx Proxy Manager: the folder the person copied, the preview Gatehouse makes of
// it (nothing changes yet), which items are chosen (at first: every one that maps), and the result
// of importing them.
import type { ApiClient, ApiError } from '../../shared/api.js';
import type { NpmImportItem, NpmImportPreview, NpmImportResult } from '../../shared/insight.js';
import { asApiError } from '../app/errors.js';

export const NPM_KINDS: { kind: NpmImportItem['kind']; title: string }[] = [
  { kind: 'proxy-host', title: 'Proxy hosts' },
  { kind: 'redirection-host', title: 'Redirection hosts' },
  { kind: 'access-list', title: 'Access lists' },
  { kind: 'certificate', title: 'Certificates' },
  { kind: 'stream', title: 'Streams' },
];

export const MAPS_WORDS: Record<NpmImportItem['maps'], string> = { yes: 'Maps', partly: 'Partly', no: 'Cannot import' };

export class NpmImport {
  folder = $state('');
  step = $state<'idle' | 'previewing' | 'importing'>('idle');
  preview = $state.raw<NpmImportPreview | null>(null);
  chosen = $state<Record<string, boolean>>({});
  result = $state.raw<NpmImportResult | null>(null);
  error = $state.raw<ApiError | null>(null);

  readonly #api: Pick<ApiClient, 'previewNpmImport' | 'applyNpmImport'>;

  constructor(api: Pick<ApiClient, 'previewNpmImport' | 'applyNpmImport'>) {
    this.#api = api;
  }

  readonly chosenKeys = $derived(this.preview ? this.preview.items.filter((entry) => entry.maps !== 'no' && this.chosen[entry.key]).map((entry) => entry.key) : []);

  /** Items of a kind, in the preview's order. */
  itemsOf(kind: NpmImportItem['kind']): NpmImportItem[] {
    return this.preview?.items.filter((entry) => entry.kind === kind) ?? [];
  }

  label(key: string): string {
    const entry = this.preview?.items.find((candidate) => candidate.key === key);
    return entry?.label ?? this.#labels.get(key) ?? key;
  }

  /** Labels of the last preview, for the result shown after it. */
  readonly #labels = new Map<string, string>();

  async look(): Promise<void> {
    if (this.step !== 'idle') return;
    this.step = 'previewing';
    this.error = null;
    this.result = null;
    try {
      const preview = await this.#api.previewNpmImport({ folder: this.folder });
      this.preview = preview;
      this.chosen = Object.fromEntries(preview.items.map((entry) => [entry.key, entry.maps !== 'no']));
    } catch (error) {
      this.error = asApiError(error);
      this.preview = null;
    } finally {
      this.step = 'idle';
    }
  }

  async importChosen(): Promise<void> {
    if (this.step !== 'idle' || !this.preview || this.chosenKeys.length === 0) return;
    this.step = 'importing';
    this.error = null;
    try {
      const result = await this.#api.applyNpmImport({ folder: this.preview.folder, keys: this.chosenKeys });
      for (const entry of this.preview.items) this.#labels.set(entry.key, entry.label);
      this.result = result;
      // The preview is out of date now (what came in is in Gatehouse); "Preview" again shows what is left.
      this.preview = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.step = 'idle';
    }
  }
}
