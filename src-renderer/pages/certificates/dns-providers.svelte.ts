// Adding or changing a DNS provider for the DNS challenge: each kind's own fields, the credentials
// write-only (empty on edit keeps the stored ones), checked by the shared schemas; and testing one
// with a harmless TXT record for a name the person gives.
import { DnsProviderInputSchema, DnsProviderUpdateSchema, type DnsProviderKind, type DnsProviderView, type PreflightCheck, TSIG_ALGORITHMS } from '../../../shared/acme.js';
import { endpoints, type ApiClient, type ApiError, type FieldIssue } from '../../../shared/api.js';
import { asApiError, splitIssues, zodIssues } from '../../app/errors.js';

export interface DnsProviderValues {
  label: string;
  /** Cloudflare: the zone id, empty to look it up. */
  zoneId: string;
  /** RFC 2136: the primary name server, host[:port]. */
  server: string;
  /** RFC 2136: the zone, empty to find it from the SOA. */
  zone: string;
  keyName: string;
  algorithm: (typeof TSIG_ALGORITHMS)[number];
  /** acme-dns: the server and what its registration gave. */
  serverUrl: string;
  username: string;
  subdomain: string;
  fulldomain: string;
  /** exec: the script's full path and how long it may run, in seconds. */
  command: string;
  timeoutSeconds: string;
  /** The secret; write-only. Empty on edit = keep the stored one. */
  credentials: string;
}

export const dnsFields = ['label', 'zoneId', 'server', 'zone', 'keyName', 'algorithm', 'serverUrl', 'username', 'subdomain', 'fulldomain', 'command', 'timeoutMs', 'credentials'] as const;
export type DnsField = (typeof dnsFields)[number];

export function dnsFieldOf(path: string): DnsField | null {
  const first = path.split('.')[0] ?? '';
  return (dnsFields as readonly string[]).includes(first) ? (first as DnsField) : null;
}

/** What each kind's secret is called, for its label. */
export const credentialLabels: Record<Exclude<DnsProviderKind, 'exec'>, string> = {
  cloudflare: 'API token',
  rfc2136: 'TSIG secret (base64)',
  'acme-dns': 'Password',
  duckdns: 'Token',
};

function emptyValues(): DnsProviderValues {
  return {
    label: '',
    zoneId: '',
    server: '',
    zone: '',
    keyName: '',
    algorithm: 'hmac-sha256',
    serverUrl: '',
    username: '',
    subdomain: '',
    fulldomain: '',
    command: '',
    timeoutSeconds: '120',
    credentials: '',
  };
}

function valuesOf(provider: DnsProviderView): DnsProviderValues {
  const values = { ...emptyValues(), label: provider.label };
  switch (provider.kind) {
    case 'cloudflare':
      return { ...values, zoneId: provider.zoneId ?? '' };
    case 'rfc2136':
      return { ...values, server: provider.server, zone: provider.zone ?? '', keyName: provider.keyName, algorithm: provider.algorithm };
    case 'acme-dns':
      return { ...values, serverUrl: provider.serverUrl, username: provider.username, subdomain: provider.subdomain, fulldomain: provider.fulldomain };
    case 'duckdns':
      return values;
    case 'exec':
      return { ...values, command: provider.command, timeoutSeconds: String(provider.timeoutMs / 1000) };
  }
}

/** Typed seconds as ms; NaN (refused by the schema) when it is not a number. */
function seconds(text: string): number {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Math.round(Number(text) * 1000) : Number.NaN;
}

export class DnsProviderForm {
  kind = $state<DnsProviderKind>('cloudflare');
  values = $state<DnsProviderValues>(emptyValues());
  errors = $state<Partial<Record<DnsField, string>>>({});
  error = $state.raw<ApiError | null>(null);
  errorIssues = $state.raw<FieldIssue[]>([]);
  saving = $state(false);
  /** The provider being changed; null when adding. */
  readonly existing: DnsProviderView | null;
  readonly #api: Pick<ApiClient, 'addDnsProvider' | 'updateDnsProvider'>;

  constructor(api: Pick<ApiClient, 'addDnsProvider' | 'updateDnsProvider'>, provider: DnsProviderView | null = null) {
    this.#api = api;
    this.existing = provider;
    if (provider) {
      this.kind = provider.kind;
      this.values = valuesOf(provider);
    }
  }

  get id(): string | null {
    return this.existing?.id ?? null;
  }

  /** Whether an empty credentials box keeps what is stored (editing a provider of the same kind that has some). */
  get keepsCredentials(): boolean {
    return this.existing !== null && this.existing.kind === this.kind && this.existing.credentialsSet;
  }

  edited(field: DnsField): void {
    if (this.errors[field] !== undefined) delete this.errors[field];
  }

  /** The API input for the chosen kind: only its own fields; settings the form does not show are kept. */
  inputOf(): Record<string, unknown> {
    const v = this.values;
    const kept = this.existing && this.existing.kind === this.kind ? this.existing : null;
    const common = { label: v.label, propagationTimeoutMs: this.existing?.propagationTimeoutMs ?? 120_000 };
    const credentials = v.credentials.trim() === '' && this.existing !== null ? {} : { credentials: v.credentials };
    const id = this.existing ? { id: this.existing.id } : {};
    const optional = (text: string) => (text.trim() === '' ? null : text.trim());
    switch (this.kind) {
      case 'cloudflare':
        return { ...id, ...common, kind: 'cloudflare', apiUrl: kept?.kind === 'cloudflare' ? kept.apiUrl : 'https://api.cloudflare.com/client/v4', zoneId: optional(v.zoneId), ...credentials };
      case 'rfc2136':
        return { ...id, ...common, kind: 'rfc2136', server: v.server, zone: optional(v.zone), keyName: v.keyName, algorithm: v.algorithm, ...credentials };
      case 'acme-dns':
        return { ...id, ...common, kind: 'acme-dns', serverUrl: v.serverUrl, username: v.username, subdomain: v.subdomain, fulldomain: v.fulldomain, ...credentials };
      case 'duckdns':
        return { ...id, ...common, kind: 'duckdns', apiUrl: kept?.kind === 'duckdns' ? kept.apiUrl : 'https://www.duckdns.org', ...credentials };
      case 'exec':
        return { ...id, ...common, kind: 'exec', command: v.command, timeoutMs: seconds(v.timeoutSeconds) };
    }
  }

  #check() {
    const schema = this.existing ? DnsProviderUpdateSchema : DnsProviderInputSchema;
    const result = schema.safeParse(this.inputOf());
    const errors = result.success ? {} : splitIssues(zodIssues(result.error), dnsFieldOf).fields;
    // Another kind cannot keep the old kind's secret: it needs its own.
    if (this.existing && this.kind !== 'exec' && !this.keepsCredentials && this.values.credentials.trim() === '') {
      errors.credentials ??= `enter the ${credentialLabels[this.kind].toLowerCase()}`;
    }
    return { result, errors };
  }

  async submit(): Promise<DnsProviderView | null> {
    if (this.saving) return null;
    const { result, errors } = this.#check();
    this.errors = errors;
    if (!result.success || Object.keys(errors).length > 0) return null;
    this.saving = true;
    try {
      const saved = this.existing
        ? await this.#api.updateDnsProvider(result.data as Parameters<ApiClient['updateDnsProvider']>[0])
        : await this.#api.addDnsProvider(result.data as Parameters<ApiClient['addDnsProvider']>[0]);
      this.values.credentials = '';
      this.error = null;
      this.errorIssues = [];
      return saved;
    } catch (error) {
      const failure = asApiError(error);
      const { fields, rest } = splitIssues(failure.details.issues ?? [], dnsFieldOf);
      this.errors = fields;
      const allOnFields = failure.code === 'invalid_input' && rest.length === 0 && Object.keys(fields).length > 0;
      this.error = allOnFields && !failure.details.fix ? null : failure;
      this.errorIssues = rest;
      return null;
    } finally {
      this.saving = false;
    }
  }
}

/** "Test": a harmless TXT record for `name`, created through the provider, looked up, removed. */
export class DnsProviderTest {
  name = $state('');
  nameError = $state<string | null>(null);
  result = $state.raw<PreflightCheck | null>(null);
  error = $state.raw<ApiError | null>(null);
  testing = $state(false);
  readonly id: string;
  readonly #api: Pick<ApiClient, 'testDnsProvider'>;

  constructor(api: Pick<ApiClient, 'testDnsProvider'>, id: string, name = '') {
    this.#api = api;
    this.id = id;
    this.name = name;
  }

  async run(): Promise<PreflightCheck | null> {
    if (this.testing) return null;
    const input = endpoints.testDnsProvider.input.safeParse({ id: this.id, name: this.name });
    if (!input.success) {
      this.nameError = zodIssues(input.error).find((issue) => issue.path === 'name')?.message ?? 'enter a name in the zone, such as test.example.com';
      return null;
    }
    this.nameError = null;
    this.testing = true;
    this.error = null;
    try {
      this.result = await this.#api.testDnsProvider(input.data);
      return this.result;
    } catch (error) {
      this.error = asApiError(error);
      this.result = null;
      return null;
    } finally {
      this.testing = false;
    }
  }
}
