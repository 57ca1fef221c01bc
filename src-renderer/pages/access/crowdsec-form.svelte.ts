// CrowdSec's settings (on/off, the Local API's address, how often to pull, this network too) and
// its bouncer key, which is write-only: the page knows only whether one is set.
import { CrowdsecSettingsSchema, type AccessOverview, type CrowdsecSettings } from '../../../shared/access.js';
import { endpoints, type ApiClient, type ApiError } from '../../../shared/api.js';
import { asApiError, zodIssues } from '../../app/errors.js';

export type CrowdsecField = 'url' | 'pullSeconds' | 'apiKey';

export class CrowdsecForm {
  enabled = $state(false);
  url = $state('');
  /** As typed. */
  pullSeconds = $state('');
  applyToLan = $state(false);
  /** A new bouncer key, while it is typed; never filled from Gatehouse. */
  apiKey = $state('');
  problems = $state.raw<Partial<Record<CrowdsecField, string>>>({});
  error = $state.raw<ApiError | null>(null);
  saving = $state(false);

  readonly #api: Pick<ApiClient, 'updateAccessSettings'>;

  constructor(api: Pick<ApiClient, 'updateAccessSettings'>, settings: CrowdsecSettings) {
    this.#api = api;
    this.reset(settings);
  }

  reset(settings: CrowdsecSettings): void {
    this.enabled = settings.enabled;
    this.url = settings.url;
    this.pullSeconds = String(settings.pullSeconds);
    this.applyToLan = settings.applyToLan;
  }

  #settings(): CrowdsecSettings | null {
    const parsed = CrowdsecSettingsSchema.safeParse({
      enabled: this.enabled,
      url: this.url,
      pullSeconds: /^\s*\d+\s*$/.test(this.pullSeconds) ? Number(this.pullSeconds) : Number.NaN,
      applyToLan: this.applyToLan,
    });
    const problems: Partial<Record<CrowdsecField, string>> = {};
    if (!parsed.success) {
      for (const issue of zodIssues(parsed.error)) {
        if (issue.path === 'url') problems.url ??= issue.message;
        if (issue.path === 'pullSeconds') problems.pullSeconds ??= /expected number|NaN/i.test(issue.message) ? 'enter a whole number of seconds, such as 10' : issue.message;
      }
    }
    this.problems = problems;
    return parsed.success ? parsed.data : null;
  }

  async #send(input: Parameters<ApiClient['updateAccessSettings']>[0]): Promise<AccessOverview | null> {
    if (this.saving) return null;
    this.saving = true;
    try {
      const overview = await this.#api.updateAccessSettings(input);
      this.error = null;
      return overview;
    } catch (error) {
      const refusal = asApiError(error);
      const problems: Partial<Record<CrowdsecField, string>> = {};
      for (const issue of refusal.details.issues ?? []) {
        if (issue.path === 'crowdsec.url') problems.url ??= issue.message;
        if (issue.path === 'crowdsec.pullSeconds') problems.pullSeconds ??= issue.message;
        if (issue.path === 'crowdsecApiKey') problems.apiKey ??= issue.message;
      }
      this.problems = problems;
      this.error = refusal.code === 'invalid_input' && Object.keys(problems).length > 0 ? null : refusal;
      return null;
    } finally {
      this.saving = false;
    }
  }

  /** Saves the settings; the overview after, or null when a field or the alert says why not. */
  async save(): Promise<AccessOverview | null> {
    const crowdsec = this.#settings();
    return crowdsec ? this.#send({ crowdsec }) : null;
  }

  /** Sets the typed bouncer key; the field empties again either way it goes well. */
  async saveKey(): Promise<AccessOverview | null> {
    const key = this.apiKey.trim();
    const parsed = endpoints.updateAccessSettings.input.safeParse({ crowdsecApiKey: key });
    if (key === '') {
      this.problems = { apiKey: 'paste the key `cscli bouncers add gatehouse` printed' };
      return null;
    }
    if (!parsed.success) {
      this.problems = { apiKey: zodIssues(parsed.error)[0]?.message ?? 'not a bouncer key' };
      return null;
    }
    const overview = await this.#send({ crowdsecApiKey: key });
    if (overview) this.apiKey = '';
    return overview;
  }

  removeKey(): Promise<AccessOverview | null> {
    return this.#send({ crowdsecApiKey: '' });
  }
}
