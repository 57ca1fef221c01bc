// "Would this address get in?": a route and an address, checked with the contract's schema, then
// checkAccess's verdict, step by step.
import type { AccessVerdict } from '../../../shared/access.js';
import { endpoints, type ApiClient, type ApiError } from '../../../shared/api.js';
import { asApiError, zodIssues } from '../../app/errors.js';

export class AccessCheck {
  routeId = $state('');
  address = $state('');
  verdict = $state.raw<AccessVerdict | null>(null);
  /** Field messages: 'routeId' or 'address'. */
  problems = $state.raw<Partial<Record<'routeId' | 'address', string>>>({});
  error = $state.raw<ApiError | null>(null);
  checking = $state(false);

  readonly #api: Pick<ApiClient, 'checkAccess'>;

  constructor(api: Pick<ApiClient, 'checkAccess'>) {
    this.#api = api;
  }

  /** Asks Gatehouse; returns the verdict, or null when a field or the alert says why not. */
  async check(): Promise<AccessVerdict | null> {
    const input = { routeId: this.routeId, address: this.address.trim() };
    const parsed = endpoints.checkAccess.input.safeParse(input);
    if (!this.routeId) {
      this.problems = { routeId: 'choose a route' };
      return null;
    }
    if (!parsed.success) {
      const problems: Partial<Record<'routeId' | 'address', string>> = {};
      for (const issue of zodIssues(parsed.error)) if (issue.path === 'routeId' || issue.path === 'address') problems[issue.path] ??= issue.message;
      this.problems = problems;
      return null;
    }
    this.problems = {};
    this.checking = true;
    try {
      this.verdict = await this.#api.checkAccess(input);
      this.error = null;
      return this.verdict;
    } catch (error) {
      this.error = asApiError(error);
      this.verdict = null;
      return null;
    } finally {
      this.checking = false;
    }
  }
}
