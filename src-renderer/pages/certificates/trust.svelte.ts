// "Trust on this machine": the plan (every command exactly as it will run), then, only after the
// person agreed in the dialog, trustCa or untrustCa with consent: true, and what each step did.
import type { ApiClient, ApiError } from '../../../shared/api.js';
import type { TrustPlan, TrustResult } from '../../../shared/status.js';
import { asApiError } from '../../app/errors.js';

export type TrustAction = 'install' | 'uninstall';

export class TrustOnThisMachine {
  plan = $state.raw<TrustPlan | null>(null);
  /** The dialog being shown, or null. */
  asking = $state<TrustAction | null>(null);
  running = $state(false);
  /** What the last install or uninstall did, step by step. */
  result = $state.raw<{ action: TrustAction; steps: TrustResult['steps'] } | null>(null);
  error = $state.raw<ApiError | null>(null);

  /** Whether every store that can tell says the CA is trusted. */
  trusted = $derived.by(() => {
    const known = (this.plan?.installed ?? []).filter((entry) => entry.trusted !== null);
    return known.length > 0 && known.every((entry) => entry.trusted);
  });

  readonly #api: Pick<ApiClient, 'getTrustPlan' | 'trustCa' | 'untrustCa'>;

  constructor(api: Pick<ApiClient, 'getTrustPlan' | 'trustCa' | 'untrustCa'>) {
    this.#api = api;
  }

  async load(): Promise<void> {
    try {
      this.plan = await this.#api.getTrustPlan();
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** The commands the dialog repeats before the person agrees. */
  steps(action: TrustAction): TrustPlan['install'] {
    return (action === 'install' ? this.plan?.install : this.plan?.uninstall) ?? [];
  }

  ask(action: TrustAction): void {
    this.asking = action;
  }

  cancel(): void {
    this.asking = null;
  }

  /** Runs what the dialog showed; only called from its confirming button. */
  async run(): Promise<void> {
    const action = this.asking;
    if (action === null || this.running) return;
    this.running = true;
    try {
      const result = action === 'install' ? await this.#api.trustCa({ consent: true }) : await this.#api.untrustCa({ consent: true });
      this.plan = result.plan;
      this.result = { action, steps: result.steps };
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.running = false;
      this.asking = null;
    }
  }
}
