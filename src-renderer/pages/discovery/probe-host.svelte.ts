// "Probe a host": an address (and optionally ports) checked with the contract's own schema, then
// sent to probeHost; the answer replaces the previous one. For services that do not announce
// themselves on the LAN (Jellyfin, for one).
import { endpoints, type ApiClient, type ApiError, type FieldIssue } from '../../../shared/api.js';
import type { HostProbe } from '../../../shared/status.js';
import { asApiError, splitIssues, zodIssues } from '../../app/errors.js';
import { FieldErrors } from '../../app/field-errors.svelte.js';

export type ProbeField = 'address' | 'ports';

/** The address field's id: the empty services list sends focus there. */
export const PROBE_ADDRESS_ID = 'probe-address';

/** "ports.2" → ports; anything the form has no field for goes to the alert. */
export function probeFieldOf(path: string): ProbeField | null {
  const first = path.split('.')[0];
  return first === 'address' || first === 'ports' ? first : null;
}

/** The ports as typed, split on commas and spaces; a word that is not digits stays a word. */
export function portWords(text: string): string[] {
  return text.split(/[\s,]+/).filter((word) => word !== '');
}

/** What the form's values mean as probeHost input: no ports = the usual list. */
export function probeInputFrom(values: { address: string; ports: string }): { address: string; ports?: number[] } {
  const words = portWords(values.ports);
  // Not digits → NaN, so the schema's own message explains what a port is.
  const ports = words.map((word) => (/^\d+$/.test(word) ? Number(word) : Number.NaN));
  return { address: values.address.trim(), ...(ports.length > 0 ? { ports } : {}) };
}

function check(values: { address: string; ports: string }) {
  const input = probeInputFrom(values);
  const result = endpoints.probeHost.input.safeParse(input);
  if (result.success) return { input, errors: {} };
  const words = portWords(values.ports);
  // "ports.2: a port is 1 to 65535" says which one when it is written "0: a port is 1 to 65535".
  const issues = zodIssues(result.error).map((issue) => {
    const index = /^ports\.(\d+)$/.exec(issue.path)?.[1];
    const word = index === undefined ? undefined : words[Number(index)];
    return word === undefined ? issue : { ...issue, message: `${word}: ${issue.message}` };
  });
  return { input, errors: splitIssues(issues, probeFieldOf).fields };
}

export class HostProbeForm {
  values = $state({ address: '', ports: '' });
  probing = $state(false);
  /** The latest answer; null before the first, and while a new one is on its way. */
  result = $state.raw<HostProbe | null>(null);
  error = $state.raw<ApiError | null>(null);
  errorIssues = $state.raw<FieldIssue[]>([]);

  readonly #check = $derived(check(this.values));
  readonly fieldErrors = new FieldErrors<ProbeField>(() => this.#check.errors, probeFieldOf);
  readonly #api: Pick<ApiClient, 'probeHost'>;

  constructor(api: Pick<ApiClient, 'probeHost'>) {
    this.#api = api;
  }

  message(field: ProbeField): string | null {
    return this.fieldErrors.message(field);
  }

  /** Probes the host; false when the form shows why it did not (nothing is sent then). */
  async probe(): Promise<boolean> {
    if (this.probing) return false;
    if (!this.fieldErrors.attemptSubmit()) return false;
    const { input } = this.#check;
    this.probing = true;
    this.result = null;
    this.error = null;
    this.errorIssues = [];
    try {
      this.result = await this.#api.probeHost(input);
      this.fieldErrors.reset();
      return true;
    } catch (caught) {
      ({ alert: this.error, issues: this.errorIssues } = this.fieldErrors.showRefusal(asApiError(caught)));
      return false;
    } finally {
      this.probing = false;
    }
  }
}
