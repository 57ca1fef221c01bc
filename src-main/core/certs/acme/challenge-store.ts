// HTTP-01 answers the proxy's HTTP listener serves (proxy/tls-certificates.ts ChallengeAnswers):
// the key authorizations of orders under way, and the probe tokens of pre-flight checks. Tokens
// live only in memory and only while their order or check runs.
import type { ChallengeAnswers } from '../../proxy/tls-certificates.js';

export class ChallengeStore implements ChallengeAnswers {
  readonly #answers = new Map<string, string>();

  /** Serves `keyAuthorization` for `token` until the returned function is called. */
  add(token: string, keyAuthorization: string): () => void {
    this.#answers.set(token, keyAuthorization);
    return () => {
      if (this.#answers.get(token) === keyAuthorization) this.#answers.delete(token);
    };
  }

  answer(token: string): string | null {
    return this.#answers.get(token) ?? null;
  }

  get size(): number {
    return this.#answers.size;
  }
}
