// Sign-in users (basic auth): a name and a password typed twice, checked with the contract's
// schema. Passwords live only in these forms until sent; Gatehouse stores a hash and never returns it.
import type { AccessUser } from '../../../shared/access.js';
import { endpoints, type ApiClient, type ApiError } from '../../../shared/api.js';
import { asApiError, zodIssues } from '../../app/errors.js';

export type UserField = 'name' | 'password' | 'repeat';

export const PASSWORDS_DIFFER = 'the two passwords differ; type the same password twice';

/** Adding a user (`name` editable) or changing one user's password (`name` fixed). */
export class UserPasswordForm {
  name = $state('');
  password = $state('');
  repeat = $state('');
  problems = $state.raw<Partial<Record<UserField, string>>>({});
  error = $state.raw<ApiError | null>(null);
  saving = $state(false);

  /** The user whose password changes; null when adding one. */
  readonly existing: string | null;
  readonly #api: Pick<ApiClient, 'addAccessUser' | 'setAccessUserPassword'>;

  constructor(api: Pick<ApiClient, 'addAccessUser' | 'setAccessUserPassword'>, existing: string | null = null) {
    this.#api = api;
    this.existing = existing;
    this.name = existing ?? '';
  }

  #checked(): { name: string; password: string } | null {
    const input = { name: this.name, password: this.password };
    const parsed = (this.existing === null ? endpoints.addAccessUser : endpoints.setAccessUserPassword).input.safeParse(input);
    const problems: Partial<Record<UserField, string>> = {};
    if (!parsed.success) for (const issue of zodIssues(parsed.error)) if (issue.path === 'name' || issue.path === 'password') problems[issue.path] ??= issue.message;
    if (!problems.password && this.password !== this.repeat) problems.repeat = PASSWORDS_DIFFER;
    this.problems = problems;
    return Object.keys(problems).length === 0 && parsed.success ? (parsed.data as { name: string; password: string }) : null;
  }

  /** Saves; returns the user, or null when a field or the alert says why not. */
  async submit(): Promise<AccessUser | null> {
    if (this.saving) return null;
    const input = this.#checked();
    if (!input) return null;
    this.saving = true;
    try {
      const user = this.existing === null ? await this.#api.addAccessUser(input) : await this.#api.setAccessUserPassword(input);
      this.error = null;
      this.password = '';
      this.repeat = '';
      if (this.existing === null) this.name = '';
      return user;
    } catch (error) {
      const refusal = asApiError(error);
      const problems: Partial<Record<UserField, string>> = {};
      for (const issue of refusal.details.issues ?? []) if (issue.path === 'name' || issue.path === 'password') problems[issue.path] ??= issue.message;
      this.problems = problems;
      this.error = refusal.code === 'invalid_input' && Object.keys(problems).length > 0 ? null : refusal;
      return null;
    } finally {
      this.saving = false;
    }
  }
}
