// Turning failures into what a form shows: an ApiError for the alert, and field messages for the
// fields they name. Client-side zod failures go through the same `invalidInput` the server uses, so a
// message reads the same whether the browser or Gatehouse caught it.
import type { z } from 'zod';
import { ApiError, invalidInput, type FieldIssue } from '../../shared/api.js';

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError('internal', error instanceof Error ? error.message : String(error));
}

/** The field issues of a zod failure, with dotted paths as the server reports them. */
export function zodIssues(error: z.ZodError): FieldIssue[] {
  return invalidInput(error).details.issues ?? [];
}

/**
 * Splits issues into a message per field (the first issue each field has) and the rest, which
 * belong in the page's alert. `fieldOf` names the form field a dotted path belongs to, or null.
 */
export function splitIssues<F extends string>(
  issues: readonly FieldIssue[],
  fieldOf: (path: string) => F | null,
): { fields: Partial<Record<F, string>>; rest: FieldIssue[] } {
  const fields: Partial<Record<F, string>> = {};
  const rest: FieldIssue[] = [];
  for (const issue of issues) {
    const field = fieldOf(issue.path);
    if (field === null) rest.push(issue);
    else fields[field] ??= issue.message;
  }
  return { fields, rest };
}
