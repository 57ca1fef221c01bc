// The route page's doctor: one run at a time, its report, and the error when the call itself failed.
import type { ApiClient, ApiError } from '../../shared/api.js';
import type { DoctorCheck, DoctorReport, DoctorStep } from '../../shared/insight.js';
import { asApiError } from '../app/errors.js';

/** Each state as a word and a symbol (never colour alone). */
export const doctorStates: Record<DoctorCheck['state'], { word: string; symbol: string }> = {
  pass: { word: 'Passed', symbol: '✓' },
  warn: { word: 'Warning', symbol: '!' },
  fail: { word: 'Failed', symbol: '✗' },
  skipped: { word: 'Skipped', symbol: '–' },
};

export const doctorStepNames: Record<DoctorStep, string> = {
  dns: 'Name',
  port: 'Port',
  certificate: 'Certificate',
  upstream: 'Service',
  access: 'Access',
};

export const doctorVerdicts: Record<DoctorReport['verdict'], string> = {
  ok: 'Everything works',
  warnings: 'Works, with warnings',
  broken: 'Something is wrong',
};

/** "2 failed, 1 warning, 6 passed". */
export function doctorCounts(report: DoctorReport): string {
  const count = (state: DoctorCheck['state']) => report.checks.filter((check) => check.state === state).length;
  const parts = [
    [count('fail'), 'failed', 'failed'],
    [count('warn'), 'warning', 'warnings'],
    [count('pass'), 'passed', 'passed'],
    [count('skipped'), 'skipped', 'skipped'],
  ] as const;
  return parts
    .filter(([n]) => n > 0)
    .map(([n, one, many]) => `${n} ${n === 1 ? one : many}`)
    .join(', ');
}

export class DoctorRun {
  report = $state<DoctorReport | null>(null);
  running = $state(false);
  error = $state<ApiError | null>(null);
  readonly #api: Pick<ApiClient, 'runDoctor'>;
  readonly #routeId: string;

  constructor(api: Pick<ApiClient, 'runDoctor'>, routeId: string) {
    this.#api = api;
    this.#routeId = routeId;
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.error = null;
    try {
      this.report = await this.#api.runDoctor({ routeId: this.#routeId });
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.running = false;
    }
  }
}
