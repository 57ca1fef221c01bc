// An admin-API answer that is not an ApiError's own status: 405, 413, 415. It still carries the
// ApiErrorBody shape, so every client reads every failure the same way.
import type { ApiErrorBody, ApiErrorCode } from '../../shared/api.js';

export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
