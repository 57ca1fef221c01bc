// When a form shows which message: a field's own problem appears once the person has left the field
// (then live while they type) or tried to submit; a server's message for a field stays until that
// field is edited. Shared by the route form, the settings form and the first-run ports step.
import type { ApiError, FieldIssue } from '../../shared/api.js';
import { splitIssues } from './errors.js';

export class FieldErrors<F extends string> {
  /** Fields the person has left at least once. */
  #touched = $state<Partial<Record<F, true>>>({});
  #server = $state<Partial<Record<F, string>>>({});
  /** Set by a submit attempt: from then on every field shows its problem. */
  submitted = $state(false);

  readonly #clientErrors: () => Partial<Record<F, string>>;
  readonly #fieldOf: (path: string) => F | null;

  /**
   * @param clientErrors the current problem of each field, from the shared schemas (read reactively)
   * @param fieldOf the field a server issue's dotted path belongs to, or null for the page's alert
   */
  constructor(clientErrors: () => Partial<Record<F, string>>, fieldOf: (path: string) => F | null) {
    this.#clientErrors = clientErrors;
    this.#fieldOf = fieldOf;
  }

  /** The message to show under `field` now, or null. */
  message(field: F): string | null {
    const server = this.#server[field];
    if (server) return server;
    if (!this.submitted && !this.#touched[field]) return null;
    return this.#clientErrors()[field] ?? null;
  }

  touch(field: F): void {
    this.#touched[field] = true;
  }

  /** The person changed the field: the server's verdict on the old value no longer applies. */
  edited(field: F): void {
    if (this.#server[field] !== undefined) delete this.#server[field];
  }

  /** Marks the submit attempt; true when the fields are valid as far as the browser can tell. */
  attemptSubmit(): boolean {
    this.submitted = true;
    return Object.keys(this.#clientErrors()).length === 0;
  }

  /** Puts the server's field issues on their fields; returns the issues that name no field. */
  #showServerIssues(issues: readonly FieldIssue[]): FieldIssue[] {
    const { fields, rest } = splitIssues(issues, this.#fieldOf);
    this.#server = fields;
    return rest;
  }

  /**
   * Shows a server's refusal: its field issues go on their fields, and what is left is for the
   * page's alert (nothing when an invalid_input named only fields the form shows).
   */
  showRefusal(error: ApiError): { alert: ApiError | null; issues: FieldIssue[] } {
    const all = error.details.issues ?? [];
    const rest = this.#showServerIssues(all);
    const allOnFields = error.code === 'invalid_input' && all.length > 0 && rest.length === 0;
    return { alert: allOnFields ? null : error, issues: rest };
  }

  /** Forgets every message, e.g. after a successful save. */
  reset(): void {
    this.#touched = {};
    this.#server = {};
    this.submitted = false;
  }
}
