// First run, step 1: which ports the proxy uses. The fields start from the ports in use for this run
// (a `gatehouse serve --http-port …` flag wins over the saved value), "Check ports" binds them for a
// moment on the server (checkPorts) and shows the exact fix when one cannot be used, and "Continue"
// saves them: after a passing check, or, when a port failed it, only once the person confirms.
import type { ApiClient, ApiError } from '../../../shared/api.js';
import { PortSchema, type GeneralSettings } from '../../../shared/model.js';
import type { PortCheck, ProxyStatus } from '../../../shared/status.js';
import { portText } from '../../../shared/streams.js';
import { asApiError } from '../../app/errors.js';
import { FieldErrors } from '../../app/field-errors.svelte.js';
import { portFrom } from '../settings/general-settings-form.svelte.js';
import { flagsText, inUseThisRun } from '../settings/run-overrides.js';

export type PortField = 'httpPort' | 'httpsPort';

/**
 * What a check is about, in words: "HTTP port 80", `stream "NAS SSH" (TCP 2222)`, `the FTP passive
 * range of "NAS FTP" (30000–30049)`. `titleOf` names a stream by id (its id when it is gone).
 */
export function portCheckLabel(check: PortCheck, titleOf: (streamId: string) => string | undefined): string {
  const ports = portText(check.port, check.portEnd ?? null);
  const title = check.streamId ? (titleOf(check.streamId) ?? check.streamId) : '';
  switch (check.role) {
    case 'http':
      return `HTTP port ${check.port}`;
    case 'https':
      return `HTTPS port ${check.port}`;
    case 'stream':
      return `stream "${title}" (${(check.transport ?? 'tcp').toUpperCase()} ${ports})`;
    case 'ftp-passive':
      return `the FTP passive range of "${title}" (${ports})`;
  }
}

/** A key for each check: several streams report the same roles. */
export function portCheckKey(check: PortCheck): string {
  return `${check.role}:${check.streamId ?? ''}:${check.transport ?? ''}:${check.port}`;
}

function portProblem(text: string): string | undefined {
  const result = PortSchema.safeParse(portFrom(text));
  return result.success ? undefined : result.error.issues[0]?.message;
}

type SavePorts = (patch: { proxy: { httpPort: number; httpsPort: number } }) => Promise<unknown>;

export class PortChoice {
  httpPort: string;
  httpsPort: string;
  /** The last check's answer, one entry per port; null before the first check or after an edit. */
  checks = $state.raw<PortCheck[] | null>(null);
  checking = $state(false);
  saving = $state(false);
  /** Continue found a port that failed the check: the page asks before saving it anyway. */
  confirming = $state(false);
  error = $state.raw<ApiError | null>(null);
  /** "--http-port 8080": the flags this run was started with; empty when none. */
  readonly flags: string;
  /** The saved ports, for saying what applies next time when a flag differs. */
  readonly savedPorts: { httpPort: number; httpsPort: number };

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

  /** The checks that failed; empty when every port passed (or nothing was checked). */
  readonly failed = $derived((this.checks ?? []).filter((check) => !check.available));

  readonly #api: Pick<ApiClient, 'checkPorts'>;

  constructor(api: Pick<ApiClient, 'checkPorts'>, settings: GeneralSettings, status: ProxyStatus | null = null) {
    this.#api = api;
    this.savedPorts = { httpPort: settings.proxy.httpPort, httpsPort: settings.proxy.httpsPort };
    this.flags = flagsText(status);
    this.httpPort = $state(inUseThisRun('httpPort', status) ?? String(settings.proxy.httpPort));
    this.httpsPort = $state(inUseThisRun('httpsPort', status) ?? String(settings.proxy.httpsPort));
  }

  /** A port was edited: the earlier check no longer describes it. */
  edited(field: PortField): void {
    this.fieldErrors.edited(field);
    this.checks = null;
    this.confirming = false;
  }

  /** Checks both ports and every enabled stream's; true when the server answered (whatever it said). */
  async check(): Promise<boolean> {
    if (this.checking || !this.fieldErrors.attemptSubmit()) return false;
    this.checking = true;
    try {
      this.checks = await this.#api.checkPorts({ httpPort: portFrom(this.httpPort), httpsPort: portFrom(this.httpsPort), streams: true });
      this.error = null;
      return true;
    } catch (error) {
      this.error = this.fieldErrors.showRefusal(asApiError(error)).alert;
      return false;
    } finally {
      this.checking = false;
    }
  }

  /**
   * Saves the ports; true when saved (the guide then moves on). Unchecked ports are checked first;
   * a port that failed is saved only with `anyway` (the person confirmed), never as if it passed.
   */
  async save(update: SavePorts, { anyway = false }: { anyway?: boolean } = {}): Promise<boolean> {
    if (this.saving || this.checking || !this.fieldErrors.attemptSubmit()) return false;
    if (!anyway) {
      if (this.checks === null && !(await this.check())) return false;
      if (this.failed.length > 0) {
        this.confirming = true;
        return false;
      }
    }
    this.saving = true;
    try {
      await update({ proxy: { httpPort: portFrom(this.httpPort), httpsPort: portFrom(this.httpsPort) } });
      this.error = null;
      this.confirming = false;
      return true;
    } catch (error) {
      const refusal = asApiError(error);
      // Confirmed ports are saved even when the proxy then cannot listen on them ("The settings
      // were saved, but …"): that is what the person chose, and the dashboard says the rest.
      if (anyway && refusal.code === 'port_unavailable') return true;
      this.error = this.fieldErrors.showRefusal(refusal).alert;
      return false;
    } finally {
      this.saving = false;
    }
  }
}
