// A DNS provider's failure as the person sees it: one sentence naming the cause, the fix apart, and
// what the server actually said behind `details`. The order turns it into an AcmeProblem as it is
// (problemOf), so a refused token reads the same in the API, the UI and the log.
import type { AcmeFailure, AcmeProblem } from '../../../../../shared/acme.js';

export class DnsProviderError extends Error {
  override readonly name = 'DnsProviderError';
  constructor(
    /** credentials_rejected, record_not_visible, name_rejected (the name is not the provider's), dns_provider_unreachable (the provider did not answer), internal. */
    readonly code: AcmeFailure,
    message: string,
    readonly fix: string | null = null,
    /** The provider's own answer (HTTP body, DNS rcode, script output); never holds the credentials. */
    readonly details: string | null = null,
  ) {
    super(message);
  }

  toProblem(): AcmeProblem {
    return { code: this.code, message: this.message, ...(this.fix ? { fix: this.fix } : {}), details: this.details, retryAt: null };
  }
}

/** Removes every occurrence of each secret from text that may be shown (an HTTP body that echoes a token). */
export function redact(text: string, ...secrets: (string | null | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/** Text kept behind "details": bounded, so a chatty server or script cannot fill the log. */
export function bounded(text: string, max = 4000): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** "a.b.c" → ["a.b.c", "b.c", "c"]: the zones a name may live in, nearest first. */
export function parentNames(name: string): string[] {
  const labels = name.replace(/\.$/, '').split('.');
  return labels.map((_, i) => labels.slice(i).join('.')).filter((candidate) => candidate !== '');
}
