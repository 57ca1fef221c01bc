// "Change domains…": the domains typed one per line, checked with the contract's own schema, then
// confirmed (a new CA replaces the current one) before setCaDomains is called with replaceCa: true.
import { endpoints, type ApiClient, type ApiError } from '../../../shared/api.js';
import type { CertificatesOverview } from '../../../shared/status.js';
import { asApiError, zodIssues } from '../../app/errors.js';
import { lines } from '../../format.js';

/** A message about the domains, for the textarea: "line 2: …" when it names one domain. */
export function domainsMessage(issues: readonly { path: string; message: string }[], domains: readonly string[]): string | null {
  const issue = issues.find((candidate) => candidate.path === 'domains' || candidate.path.startsWith('domains.'));
  if (!issue) return null;
  const index = /^domains\.(\d+)/.exec(issue.path)?.[1];
  if (index === undefined) return issue.message;
  const domain = domains[Number(index)];
  return `line ${Number(index) + 1}${domain ? ` (${domain})` : ''}: ${issue.message}`;
}

export class CaDomainsEditor {
  /** Whether the editor is shown. */
  editing = $state(false);
  text = $state('');
  /** Whether the "replace the CA?" dialog is shown. */
  confirming = $state(false);
  saving = $state(false);
  /** The problem with the domains, shown under the textarea. */
  fieldError = $state<string | null>(null);
  /** A refusal that is not about the domains, for the alert. */
  error = $state.raw<ApiError | null>(null);

  readonly #api: Pick<ApiClient, 'setCaDomains'>;

  constructor(api: Pick<ApiClient, 'setCaDomains'>) {
    this.#api = api;
  }

  open(current: readonly string[]): void {
    this.text = current.join('\n');
    this.editing = true;
    this.fieldError = null;
    this.error = null;
  }

  close(): void {
    this.editing = false;
    this.confirming = false;
  }

  get domains(): string[] {
    return lines(this.text).map((domain) => domain.toLowerCase());
  }

  /** Checks the domains; asks for confirmation when they are fine. Calls nothing. */
  review(): boolean {
    const result = endpoints.setCaDomains.input.safeParse({ domains: this.domains, replaceCa: true });
    this.fieldError = result.success ? null : domainsMessage(zodIssues(result.error), this.domains);
    this.confirming = result.success;
    return result.success;
  }

  /** After the person agreed: replaces the CA. Returns the new overview, or null (the editor says why). */
  async confirm(): Promise<CertificatesOverview | null> {
    if (this.saving) return null;
    this.saving = true;
    try {
      const overview = await this.#api.setCaDomains({ domains: this.domains, replaceCa: true });
      this.close();
      this.error = null;
      return overview;
    } catch (error) {
      const failure = asApiError(error);
      this.confirming = false;
      this.fieldError = domainsMessage(failure.details.issues ?? [], this.domains);
      this.error = this.fieldError && failure.code === 'invalid_input' ? null : failure;
      return null;
    } finally {
      this.saving = false;
    }
  }
}
