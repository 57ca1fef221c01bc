// The forms that take a password: signing in (password, then a code when a second factor is on),
// choosing or changing the password (with a confirm field), and confirming a sensitive action with
// the password. Each checks its fields with the shared schemas (shared/admin-auth.ts) and shows
// Gatehouse's refusals the way the route form does: on the field they concern, or in the alert.
import type { z } from 'zod';
import {
  ConfirmTotpInputSchema,
  PasswordConfirmationSchema,
  SetPasswordInputSchema,
  SignInInputSchema,
  type AuthState,
  type SetPasswordInput,
  type SignInInput,
} from '../../shared/admin-auth.js';
import { ApiError, type FieldIssue } from '../../shared/api.js';
import { asApiError, splitIssues, zodIssues } from '../app/errors.js';
import { FieldErrors } from '../app/field-errors.svelte.js';
import type { AuthClient } from '../transport/auth.js';

/**
 * A 401 from a sign-in endpoint means "that password (or code) is wrong": shown on the field that
 * holds it, as if Gatehouse had named the field. Every other refusal passes unchanged.
 */
export function refusalOnField(error: ApiError, field: string | null): ApiError {
  if (error.code !== 'unauthorized' || field === null) return error;
  return new ApiError('invalid_input', error.message, { issues: [{ path: field, message: error.message }] });
}

/** The form field an issue's path names (the schemas' keys are the field names), or null for the alert. */
function fieldsOf<F extends string>(fields: readonly F[]) {
  return (path: string): F | null => {
    const field = path.split('.')[0] ?? '';
    return (fields as readonly string[]).includes(field) ? (field as F) : null;
  };
}

function problems<F extends string>(result: z.ZodSafeParseResult<unknown>, fieldOf: (path: string) => F | null): Partial<Record<F, string>> {
  return result.success ? {} : splitIssues(zodIssues(result.error), fieldOf).fields;
}

abstract class PasswordFormBase<F extends string> {
  busy = $state(false);
  /** The alert after a refusal: null when every issue sits on a field. */
  error = $state.raw<ApiError | null>(null);
  /** The refusal's issues that name no field, listed in the alert. */
  errorIssues = $state.raw<FieldIssue[]>([]);
  abstract readonly fieldErrors: FieldErrors<F>;

  message(field: F): string | null {
    return this.fieldErrors.message(field);
  }

  /** Runs `send` once the fields are valid; null when they were not or Gatehouse refused. */
  protected async run<T>(send: () => Promise<T>, wrongField: F | null): Promise<T | null> {
    if (this.busy || !this.fieldErrors.attemptSubmit()) return null;
    this.busy = true;
    this.error = null;
    this.errorIssues = [];
    try {
      return await send();
    } catch (caught) {
      ({ alert: this.error, issues: this.errorIssues } = this.fieldErrors.showRefusal(refusalOnField(asApiError(caught), wrongField)));
      return null;
    } finally {
      this.busy = false;
    }
  }
}

export type SignInField = 'password' | 'code';
const signInFieldOf = fieldsOf<SignInField>(['password', 'code']);

export class SignInForm extends PasswordFormBase<SignInField> {
  values = $state({ password: '', code: '' });
  /** The password was right and a second factor is on: the code field is shown and required. */
  needsCode = $state(false);

  readonly #input = $derived<SignInInput>(this.needsCode ? { password: this.values.password, code: this.values.code } : { password: this.values.password });
  readonly #errors = $derived(problems(SignInInputSchema.safeParse(this.#input), signInFieldOf));
  readonly fieldErrors = new FieldErrors<SignInField>(() => this.#errors, signInFieldOf);

  /** The new state once signed in; 'needs-code' when the code field just appeared; null otherwise. */
  async submit(auth: AuthClient): Promise<AuthState | 'needs-code' | null> {
    const input = this.#input;
    const result = await this.run(() => auth.signIn(input), this.needsCode ? 'code' : 'password');
    if (result === null) {
      if (this.needsCode && this.fieldErrors.message('code')) this.values.code = '';
      return null;
    }
    if (result.needsCode) {
      this.needsCode = true;
      this.fieldErrors.reset();
      return 'needs-code';
    }
    this.values = { password: '', code: '' };
    return result.state;
  }

  /** Back from the code step to the password (another person at the keyboard, a wrong account). */
  startOver(): void {
    this.needsCode = false;
    this.values = { password: '', code: '' };
    this.fieldErrors.reset();
    this.error = null;
  }
}

export type NewPasswordField = 'currentPassword' | 'newPassword' | 'confirm';
const newPasswordFieldOf = fieldsOf<NewPasswordField>(['currentPassword', 'newPassword', 'confirm']);

/**
 * Choosing the first password (after the one-time link) or changing it. `asksCurrent`: a password
 * is set already, so Gatehouse wants the current one too.
 */
export class NewPasswordForm extends PasswordFormBase<NewPasswordField> {
  values = $state({ currentPassword: '', newPassword: '', confirm: '' });
  readonly asksCurrent: boolean;

  readonly #input = $derived.by(
    (): SetPasswordInput =>
      this.asksCurrent ? { currentPassword: this.values.currentPassword, newPassword: this.values.newPassword } : { newPassword: this.values.newPassword },
  );
  readonly #errors = $derived.by(() => {
    const errors: Partial<Record<NewPasswordField, string>> = problems(SetPasswordInputSchema.safeParse(this.#input), newPasswordFieldOf);
    if (this.values.confirm === '') errors.confirm = 'type the new password again';
    else if (this.values.confirm !== this.values.newPassword) errors.confirm = 'the two passwords differ: type the same one in both fields';
    return errors;
  });
  readonly fieldErrors = new FieldErrors<NewPasswordField>(() => this.#errors, newPasswordFieldOf);

  constructor(asksCurrent: boolean) {
    super();
    this.asksCurrent = asksCurrent;
  }

  /** True once Gatehouse took the new password; the fields are emptied then. */
  async submit(auth: AuthClient): Promise<boolean> {
    const input = this.#input;
    const done = await this.run(async () => (await auth.setPassword(input), true), this.asksCurrent ? 'currentPassword' : null);
    if (!done) return false;
    this.values = { currentPassword: '', newPassword: '', confirm: '' };
    this.fieldErrors.reset();
    return true;
  }
}

const passwordFieldOf = fieldsOf<'password'>(['password']);

/** The password again before something that cannot be undone from the page (turn off 2FA, new token). */
export class PasswordConfirmationForm extends PasswordFormBase<'password'> {
  values = $state({ password: '' });
  readonly #errors = $derived(problems(PasswordConfirmationSchema.safeParse(this.values), passwordFieldOf));
  readonly fieldErrors = new FieldErrors<'password'>(() => this.#errors, passwordFieldOf);

  async submit<T>(send: (input: { password: string }) => Promise<T>): Promise<T | null> {
    const input = { password: this.values.password };
    const result = await this.run(() => send(input), 'password');
    if (result !== null) this.values.password = '';
    return result;
  }
}

const codeFieldOf = fieldsOf<'code'>(['code']);

/** The first code from the authenticator app, which proves the secret was copied right. */
export class TotpCodeForm extends PasswordFormBase<'code'> {
  values = $state({ code: '' });
  readonly #errors = $derived(problems(ConfirmTotpInputSchema.safeParse(this.values), codeFieldOf));
  readonly fieldErrors = new FieldErrors<'code'>(() => this.#errors, codeFieldOf);

  async submit<T>(send: (input: { code: string }) => Promise<T>): Promise<T | null> {
    const parsed = ConfirmTotpInputSchema.safeParse(this.values);
    const input = { code: parsed.success ? parsed.data.code : this.values.code };
    const result = await this.run(() => send(input), 'code');
    if (result === null && this.fieldErrors.message('code')) this.values.code = '';
    return result;
  }
}
