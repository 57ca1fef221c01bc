// First run, step 1: which ports the proxy uses. "Check ports" binds them for a moment on the
// server (checkPorts) and shows the exact fix when one cannot be used; "Continue" saves them.
import type { ApiClient, ApiError } from '../../../shared/api.js';
import { PortSchema, type GeneralSettings } from '../../../shared/model.js';
import type { PortCheck } from '../../../shared/status.js';
import { asApiError } from '../../app/errors.js';
import { FieldErrors } from '../../app/field-errors.svelte.js';
import { portFrom } from '../settings/general-settings-form.svelte.js';

export type PortField = 'httpPort' | 'httpsPort';

function portProblem(text: string): string | undefined {
  const result = PortSchema.safeParse(portFrom(text));
  return result.success ? undefined : result.error.issues[0]?.message;
}

export class PortChoice {
  httpPort: string;
  httpsPort: string;
  /** The last check's answer, one entry per port; null before the first check or after an edit. */
  checks = $state.raw<PortCheck[] | null>(null);
  checking = $state(false);
  saving = $state(false);
  error = $state.raw<ApiError | null>(null);

  readonly fieldErrors = new FieldErrors<PortField>(
    () => {
      const errors: Partial<Record<PortField, string>> = {};
      const http = portProblem(this.httpPort);
      const https = portProblem(this.httpsPort);
      if (http) errors.httpPort = http;
      if (https) errors.httpsPort = https;
      return errors;
    },
    (path) => (path.endsWith('httpsPort') ? 'httpsPort' : path.endsWith('httpPort') ? 'httpPort' : null),
  );

  readonly #api: Pick<ApiClient, 'checkPorts'>;

  constructor(api: Pick<ApiClient, 'checkPorts'>, settings: GeneralSettings) {
    this.#api = api;
    this.httpPort = $state(String(settings.proxy.httpPort));
    this.httpsPort = $state(String(settings.proxy.httpsPort));
  }

  /** A port was edited: the earlier check no longer describes it. */
  edited(field: PortField): void {
    this.fieldErrors.edited(field);
    this.checks = null;
  }

  async check(): Promise<void> {
    if (this.checking || !this.fieldErrors.attemptSubmit()) return;
    this.checking = true;
    try {
      this.checks = await this.#api.checkPorts({ httpPort: portFrom(this.httpPort), httpsPort: portFrom(this.httpsPort) });
      this.error = null;
    } catch (error) {
      this.error = this.fieldErrors.showRefusal(asApiError(error)).alert;
    } finally {
      this.checking = false;
    }
  }

  /** Saves the ports; true when saved (the guide then moves on). */
  async save(update: (patch: { proxy: { httpPort: number; httpsPort: number } }) => Promise<unknown>): Promise<boolean> {
    if (this.saving || !this.fieldErrors.attemptSubmit()) return false;
    this.saving = true;
    try {
      await update({ proxy: { httpPort: portFrom(this.httpPort), httpsPort: portFrom(this.httpsPort) } });
      this.error = null;
      return true;
    } catch (error) {
      this.error = this.fieldErrors.showRefusal(asApiError(error)).alert;
      return false;
    } finally {
      this.saving = false;
    }
  }
}
