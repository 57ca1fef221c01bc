// Editing one access list: its name and its entries in the order they are read, moved up and down,
// shown a page at a time (a 1,000-entry list renders PAGE_SIZE rows, not 1,000 inputs), and many
// entries pasted at once as lines. Checked with the contract's own schema; saved with add or
// updateAccessList, and the server's issues land on the entry or the name they name.
import { AccessListInputSchema, AccessRangeSchema, type AccessAction, type AccessList, type AccessListInput } from '../../../shared/access.js';
import type { ApiClient, ApiError, FieldIssue } from '../../../shared/api.js';
import { asApiError, zodIssues } from '../../app/errors.js';

/** Rows shown at once. */
export const PAGE_SIZE = 50;

export interface EntryRow {
  /** Stays with the entry while it moves, for keyed rendering and its messages. */
  key: number;
  action: AccessAction;
  range: string;
  note: string;
}

export interface ParsedLines {
  entries: Omit<EntryRow, 'key'>[];
  /** "line 3 (10.0.0.300): enter an IP address…", one per bad line. */
  problems: string[];
}

/**
 * Lines as entries: "10.33.0.0/24", "deny 203.0.113.5", "allow 2001:db8::/32 Mum's house" (the
 * words after the address are its note; a leading # is dropped). Empty lines are skipped.
 */
export function parseEntryLines(text: string): ParsedLines {
  const entries: ParsedLines['entries'] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const words = line.split(/\s+/);
    let action: AccessAction = 'allow';
    if (/^(allow|deny)$/i.test(words[0] ?? '')) action = words.shift()!.toLowerCase() as AccessAction;
    const range = words.shift() ?? '';
    const note = words.join(' ').replace(/^#\s*/, '');
    const checked = AccessRangeSchema.safeParse(range);
    if (!checked.success) problems.push(`line ${index + 1}${range ? ` (${range})` : ''}: ${checked.error.issues[0]?.message ?? 'not an address'}`);
    else if (note.length > 80) problems.push(`line ${index + 1}: a note has at most 80 characters`);
    else entries.push({ action, range: checked.data, note });
  });
  return { entries, problems };
}

/** The entries as the lines parseEntryLines reads back ("deny 203.0.113.5 note"). */
export function entryLines(entries: readonly Omit<EntryRow, 'key'>[]): string {
  return entries.map((entry) => [entry.action, entry.range, entry.note].filter((word) => word !== '').join(' ')).join('\n');
}

export class AccessListEditor {
  /** Null while creating a list. */
  readonly id: string | null;
  name = $state('');
  entries = $state<EntryRow[]>([]);
  /** Which PAGE_SIZE rows are shown (0-based). */
  page = $state(0);
  pasteText = $state('');
  pasteProblems = $state.raw<string[]>([]);
  saving = $state(false);
  /** Set by a save attempt: from then on every problem shows. */
  submitted = $state(false);
  /** The server's word on a field ("name", "entries.3.range"); cleared when that field is edited. */
  serverIssues = $state.raw<FieldIssue[]>([]);
  /** A refusal no field shows. */
  error = $state.raw<ApiError | null>(null);

  pages = $derived(Math.max(1, Math.ceil(this.entries.length / PAGE_SIZE)));
  /** The rows shown now, with their place in the whole list. */
  shown = $derived(this.entries.slice(this.page * PAGE_SIZE, (this.page + 1) * PAGE_SIZE).map((row, i) => ({ row, index: this.page * PAGE_SIZE + i })));

  readonly #check = $derived(AccessListInputSchema.safeParse(this.input()));
  readonly #clientIssues = $derived(this.#check.success ? [] : zodIssues(this.#check.error));
  #nextKey = 1;
  readonly #api: Pick<ApiClient, 'addAccessList' | 'updateAccessList'>;

  constructor(api: Pick<ApiClient, 'addAccessList' | 'updateAccessList'>, list: AccessList | null = null) {
    this.#api = api;
    this.id = list?.id ?? null;
    this.name = list?.name ?? '';
    this.entries = (list?.entries ?? []).map((entry) => this.#row(entry));
  }

  #row(entry: Omit<EntryRow, 'key'>): EntryRow {
    return { key: this.#nextKey++, action: entry.action, range: entry.range, note: entry.note };
  }

  input(): AccessListInput {
    return { name: this.name, entries: this.entries.map(({ action, range, note }) => ({ action, range, note })) };
  }

  /** The message for a field path ("name", "entries.3.range"), once the person tried to save. */
  message(path: string): string | null {
    const server = this.serverIssues.find((issue) => issue.path === path);
    if (server) return server.message;
    if (!this.submitted) return null;
    return this.#clientIssues.find((issue) => issue.path === path)?.message ?? null;
  }

  /** The problem of entry `index` (its address, its note, or the entry), for its row. */
  entryMessage(index: number): string | null {
    const prefix = `entries.${index}`;
    const issue = [...this.serverIssues, ...(this.submitted ? this.#clientIssues : [])].find((candidate) => candidate.path === prefix || candidate.path.startsWith(`${prefix}.`));
    return issue?.message ?? null;
  }

  /** Issues that name no row on the page nor the name (too many entries, say). */
  get otherIssues(): FieldIssue[] {
    if (!this.submitted) return [];
    return this.#clientIssues.filter((issue) => issue.path !== 'name' && !/^entries\.\d+/.test(issue.path));
  }

  /** The person changed `path`: the server's verdict on the old value no longer applies. */
  edited(path: string): void {
    if (this.serverIssues.some((issue) => issue.path === path || issue.path.startsWith(`${path}.`))) {
      this.serverIssues = this.serverIssues.filter((issue) => issue.path !== path && !issue.path.startsWith(`${path}.`));
    }
  }

  /** A new allow entry at the end, on the page that shows it. */
  addEntry(): void {
    this.entries.push(this.#row({ action: 'allow', range: '', note: '' }));
    this.page = this.pages - 1;
  }

  removeEntry(index: number): void {
    this.entries.splice(index, 1);
    // Issues name positions: after a removal they would point at the wrong rows.
    this.serverIssues = this.serverIssues.filter((issue) => !issue.path.startsWith('entries.'));
    this.page = Math.min(this.page, this.pages - 1);
  }

  /** Moves entry `index` one place up (-1) or down (+1); the page follows it. Returns its new place. */
  move(index: number, by: -1 | 1): number {
    const target = index + by;
    if (target < 0 || target >= this.entries.length) return index;
    const [row] = this.entries.splice(index, 1);
    this.entries.splice(target, 0, row!);
    this.serverIssues = this.serverIssues.filter((issue) => !issue.path.startsWith('entries.'));
    this.page = Math.floor(target / PAGE_SIZE);
    return target;
  }

  /** Adds (or, with `replace`, puts in place of every entry) the pasted lines; nothing when a line is bad. */
  paste(replace: boolean): boolean {
    const { entries, problems } = parseEntryLines(this.pasteText);
    this.pasteProblems = entries.length === 0 && problems.length === 0 ? ['paste at least one address or range, one per line'] : problems;
    if (this.pasteProblems.length > 0) return false;
    const rows = entries.map((entry) => this.#row(entry));
    this.entries = replace ? rows : [...this.entries, ...rows];
    this.serverIssues = this.serverIssues.filter((issue) => !issue.path.startsWith('entries.'));
    this.pasteText = '';
    this.page = replace ? 0 : Math.floor((this.entries.length - rows.length) / PAGE_SIZE);
    return true;
  }

  /** Every entry as lines, for copying elsewhere or editing as text. */
  asText(): string {
    return entryLines(this.entries);
  }

  /** Saves the list; returns it, or null when the editor shows why not. Calls nothing when invalid. */
  async save(): Promise<AccessList | null> {
    if (this.saving) return null;
    this.submitted = true;
    const check = this.#check;
    if (!check.success) {
      const first = this.#clientIssues.find((issue) => /^entries\.\d+/.test(issue.path));
      if (first) this.page = Math.floor(Number(first.path.split('.')[1]) / PAGE_SIZE);
      return null;
    }
    this.saving = true;
    this.error = null;
    try {
      const list = this.id === null ? await this.#api.addAccessList(check.data) : await this.#api.updateAccessList({ id: this.id, ...check.data });
      this.serverIssues = [];
      return list;
    } catch (error) {
      const refusal = asApiError(error);
      const issues = refusal.details.issues ?? [];
      const onFields = issues.filter((issue) => issue.path === 'name' || /^entries\.\d+/.test(issue.path));
      this.serverIssues = onFields;
      this.error = onFields.length === issues.length && issues.length > 0 && refusal.code === 'invalid_input' ? null : refusal;
      return null;
    } finally {
      this.saving = false;
    }
  }
}
