// Adding or editing a sign-in provider (forward auth). Picking a preset (Authelia, Authentik,
// tinyauth, oauth2-proxy) means typing only the server's address: the port starts at the preset's
// usual one, the path is the preset's exact endpoint (from getAccess.presets, so the page and the
// core never disagree), and the headers to copy are the preset's. "Custom" takes a whole URL.
import { SignInProviderInputSchema, type ForwardAuthPreset, type SignInProvider, type SignInProviderInput, type SignInProviderKind } from '../../../shared/access.js';
import type { ApiClient, ApiError } from '../../../shared/api.js';
import { asApiError, zodIssues } from '../../app/errors.js';
import { lines } from '../../format.js';

export type ProviderField = 'name' | 'host' | 'port' | 'url' | 'copyHeaders';

/** `http://<address>:<port><path>`, the URL a preset's endpoint has; '' without an address. */
export function presetUrl(preset: Pick<ForwardAuthPreset, 'path'>, host: string, port: string, https = false): string {
  const name = host.trim();
  if (name === '') return '';
  const bracketed = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  return `${https ? 'https' : 'http'}://${bracketed}:${port.trim()}${preset.path}`;
}

export class ProviderForm {
  name = $state('');
  kind = $state<SignInProviderKind>('authelia');
  /** The server's address (preset kinds): 10.33.0.5 or auth.home.arpa. */
  host = $state('');
  port = $state('');
  https = $state(false);
  /** The whole URL: for "custom", or a preset whose address was edited by hand. */
  fullUrl = $state('');
  /** A preset kind whose URL is typed whole (a different path, say). */
  editingFullUrl = $state(false);
  /** One header name per line. */
  copyHeaders = $state('');
  insecureTls = $state(false);
  problems = $state.raw<Partial<Record<ProviderField, string>>>({});
  error = $state.raw<ApiError | null>(null);
  saving = $state(false);

  readonly id: string | null;
  readonly presets: readonly ForwardAuthPreset[];
  readonly #api: Pick<ApiClient, 'addSignInProvider' | 'updateSignInProvider'>;

  /** The chosen kind's preset; null for custom. */
  get preset(): ForwardAuthPreset | null {
    return this.presets.find((candidate) => candidate.kind === this.kind) ?? null;
  }

  /** Whether the URL is built from the address and the preset. */
  get built(): boolean {
    return this.preset !== null && !this.editingFullUrl;
  }

  /** The URL Gatehouse will ask, as it is now. */
  get url(): string {
    const preset = this.preset;
    return this.built && preset ? presetUrl(preset, this.host, this.port, this.https) : this.fullUrl.trim();
  }

  constructor(api: Pick<ApiClient, 'addSignInProvider' | 'updateSignInProvider'>, presets: readonly ForwardAuthPreset[], provider: SignInProvider | null = null) {
    this.#api = api;
    this.presets = presets;
    this.id = provider?.id ?? null;
    if (provider) this.#load(provider);
    else this.choose(presets[0]?.kind ?? 'custom');
  }

  #load(provider: SignInProvider): void {
    this.name = provider.name;
    this.kind = provider.kind;
    this.copyHeaders = provider.copyHeaders.join('\n');
    this.insecureTls = provider.insecureTls;
    this.fullUrl = provider.url;
    const preset = this.presets.find((candidate) => candidate.kind === provider.kind);
    try {
      const url = new URL(provider.url);
      if (preset && url.pathname === preset.path && url.search === '' && !url.username) {
        this.host = url.hostname.replace(/^\[|\]$/g, '');
        this.https = url.protocol === 'https:';
        this.port = url.port || (this.https ? '443' : '80');
        return;
      }
    } catch {
      // Not a URL the preset builds: shown whole.
    }
    this.editingFullUrl = preset !== null;
  }

  /** Picks a preset (or custom): its port, its headers, and its name when the name was the old preset's. */
  choose(kind: SignInProviderKind): void {
    const before = this.preset;
    const url = this.url;
    this.kind = kind;
    const preset = this.presets.find((candidate) => candidate.kind === kind) ?? null;
    if (this.name.trim() === '' || this.name === before?.label) this.name = preset?.label ?? '';
    if (preset) {
      this.port = String(preset.examplePort);
      this.copyHeaders = preset.copyHeaders.join('\n');
      this.editingFullUrl = false;
    } else {
      if (url) this.fullUrl = url;
      if (before) this.copyHeaders = '';
    }
    this.problems = {};
  }

  /** Switches a preset to typing the whole URL, starting from the one built so far. */
  editFullUrl(): void {
    this.fullUrl = this.url;
    this.editingFullUrl = true;
  }

  input(): SignInProviderInput {
    return { name: this.name, kind: this.kind, url: this.url, copyHeaders: lines(this.copyHeaders), insecureTls: this.insecureTls };
  }

  #check(): SignInProviderInput | null {
    const problems: Partial<Record<ProviderField, string>> = {};
    if (this.built) {
      if (this.host.trim() === '') problems.host = "enter the server's address, such as 10.33.0.5 or auth.home.arpa";
      const port = Number(this.port);
      if (!/^\d+$/.test(this.port.trim()) || port < 1 || port > 65535) problems.port = 'a port is a number from 1 to 65535';
    }
    const parsed = SignInProviderInputSchema.safeParse(this.input());
    if (!parsed.success) for (const issue of zodIssues(parsed.error)) this.#place(problems, issue.path, issue.message);
    this.problems = problems;
    return Object.keys(problems).length === 0 && parsed.success ? parsed.data : null;
  }

  /** The field a dotted path belongs to: a built URL's problem is its address's. */
  #place(problems: Partial<Record<ProviderField, string>>, path: string, message: string): void {
    const first = path.split('.')[0];
    const field: ProviderField | null = first === 'url' ? (this.built ? 'host' : 'url') : first === 'name' || first === 'copyHeaders' ? first : null;
    if (field) problems[field] ??= message;
  }

  async submit(): Promise<SignInProvider | null> {
    if (this.saving) return null;
    const input = this.#check();
    if (!input) return null;
    this.saving = true;
    try {
      const saved = this.id === null ? await this.#api.addSignInProvider(input) : await this.#api.updateSignInProvider({ id: this.id, ...input });
      this.error = null;
      return saved;
    } catch (error) {
      const refusal = asApiError(error);
      const problems: Partial<Record<ProviderField, string>> = {};
      for (const issue of refusal.details.issues ?? []) this.#place(problems, issue.path, issue.message);
      this.problems = problems;
      this.error = refusal.code === 'invalid_input' && Object.keys(problems).length > 0 ? null : refusal;
      return null;
    } finally {
      this.saving = false;
    }
  }
}
