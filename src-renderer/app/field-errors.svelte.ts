// When a form shows which message: a field's own problem appears once the person has left the field
// (then live while they type) or tried to submit; a server's message for a field stays until that
// field is edited. Shared by the route form, the settings form and the first-run ports step.
import { ApiError, type FieldIssue } from '../../shared/api.js';
import { asApiError, splitIssues } from './errors.js';

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

/** A form that checks its values against the shared schemas, saves, and shows a refusal on its fields (routes, streams). */
export interface SavingForm<F extends string> {
  readonly fieldErrors: FieldErrors<F>;
  saving: boolean;
  error: ApiError | null;
  errorIssues: FieldIssue[];
}

/**
 * The submit of a SavingForm: validates (`check`, the form's current verdict), then saves with
 * `save`. Returns what was saved, or null when the form shows why not; an invalid form calls
 * nothing. `what` names the thing in the alert ("route", "stream").
 */
export async function submitChecked<F extends string, I, R>(
  form: SavingForm<F>,
  check: { ok: true; input: I } | { ok: false; rest: FieldIssue[] },
  what: string,
  save: (input: I) => Promise<R>,
): Promise<R | null> {
  if (form.saving) return null;
  const valid = form.fieldErrors.attemptSubmit();
  if (!valid || !check.ok) {
    // Issues no field shows (a schema rule spanning fields) go to the alert.
    form.error = !check.ok && check.rest.length > 0 ? new ApiError('invalid_input', `The ${what} is not valid yet.`, { issues: check.rest }) : null;
    form.errorIssues = !check.ok ? check.rest : [];
    return null;
  }
  form.saving = true;
  form.error = null;
  form.errorIssues = [];
  try {
    const saved = await save(check.input);
    form.fieldErrors.reset();
    return saved;
  } catch (error) {
    const refusal = asApiError(error);
    ({ alert: form.error, issues: form.errorIssues } = form.fieldErrors.showRefusal(refusal));
    // Every issue is on a field, but the server said how to fix it too: that must reach the person.
    if (form.error === null && refusal.details.fix) form.error = refusal;
    return null;
  } finally {
    form.saving = false;
  }
}
