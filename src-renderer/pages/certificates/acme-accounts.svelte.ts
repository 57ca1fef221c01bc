// Adding a Let's Encrypt (ACME) account: pick the directory, read what it asks for (its terms, EAB),
// then register with the terms accepted; and changing an account's name or email afterwards. The
// shared schemas check every field; the server's refusals come back on the fields they name.
import {
  AcmeAccountInputSchema,
  AcmeAccountUpdateSchema,
  AcmeDirectoryUrlSchema,
  DirectoryCaPemSchema,
  KNOWN_ACME_DIRECTORIES,
  type AcmeAccountView,
  type AcmeDirectoryInfo,
} from '../../../shared/acme.js';
import type { ApiClient, ApiError, FieldIssue } from '../../../shared/api.js';
import { asApiError, splitIssues, zodIssues } from '../../app/errors.js';

export const accountFields = ['directoryUrl', 'directoryCaPem', 'label', 'email', 'termsAccepted', 'eabKeyId', 'eabHmacKey'] as const;
export type AccountField = (typeof accountFields)[number];

/** The field an issue's path belongs to: `eab.hmacKey` → eabHmacKey, `eab` → the key id. */
export function accountFieldOf(path: string): AccountField | null {
  if (path === 'eab' || path === 'eab.keyId') return 'eabKeyId';
  if (path === 'eab.hmacKey') return 'eabHmacKey';
  const first = path.split('.')[0] ?? '';
  return (accountFields as readonly string[]).includes(first) ? (first as AccountField) : null;
}

export type DirectoryChoice = (typeof KNOWN_ACME_DIRECTORIES)[number]['id'] | 'other';

/** What an account is called by default: "Let's Encrypt", "Let's Encrypt staging", or the directory's host. */
export function defaultAccountLabel(url: string): string {
  const known = KNOWN_ACME_DIRECTORIES.find((directory) => directory.url === url);
  if (known) return known.id === 'letsencrypt' ? "Let's Encrypt" : "Let's Encrypt staging";
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Issues as fields and the rest; the alert shows only what no field does (and a fix the server gave). */
function refusal(error: unknown): { errors: Partial<Record<AccountField, string>>; alert: ApiError | null; rest: FieldIssue[] } {
  const failure = asApiError(error);
  const { fields, rest } = splitIssues(failure.details.issues ?? [], accountFieldOf);
  const allOnFields = failure.code === 'invalid_input' && rest.length === 0 && Object.keys(fields).length > 0;
  return { errors: fields, alert: allOnFields && !failure.details.fix ? null : failure, rest };
}

export class AccountForm {
  directoryChoice = $state<DirectoryChoice>('letsencrypt');
  /** The URL typed for "Other directory URL". */
  otherUrl = $state('');
  /** The PEM pasted for a private directory's CA ("Other directory URL" only); empty trusts the public CAs. */
  caPem = $state('');
  /** What the directory said; the rest of the form shows once it is read. */
  directory = $state.raw<AcmeDirectoryInfo | null>(null);
  reading = $state(false);
  label = $state('');
  email = $state('');
  acceptTerms = $state(false);
  eabKeyId = $state('');
  eabHmacKey = $state('');
  errors = $state<Partial<Record<AccountField, string>>>({});
  error = $state.raw<ApiError | null>(null);
  errorIssues = $state.raw<FieldIssue[]>([]);
  saving = $state(false);

  readonly #api: Pick<ApiClient, 'getAcmeDirectory' | 'addAcmeAccount'>;

  constructor(api: Pick<ApiClient, 'getAcmeDirectory' | 'addAcmeAccount'>) {
    this.#api = api;
  }

  get directoryUrl(): string {
    return this.directoryChoice === 'other' ? this.otherUrl.trim() : (KNOWN_ACME_DIRECTORIES.find((directory) => directory.id === this.directoryChoice)?.url ?? '');
  }

  /** The CA to trust for the directory: only a directory of your own has one. */
  get directoryCaPem(): string | null {
    return this.directoryChoice === 'other' && this.caPem.trim() !== '' ? this.caPem.trim() : null;
  }

  /** Another directory was picked: what the last one said no longer applies. */
  choose(choice: DirectoryChoice): void {
    this.directoryChoice = choice;
    this.directory = null;
    this.acceptTerms = false;
    this.errors = {};
    this.error = null;
  }

  edited(field: AccountField): void {
    if (this.errors[field] !== undefined) delete this.errors[field];
  }

  /** Asks the directory for its terms, EAB need and profiles. */
  async readDirectory(): Promise<AcmeDirectoryInfo | null> {
    if (this.reading) return null;
    const url = AcmeDirectoryUrlSchema.safeParse(this.directoryUrl);
    const ca = DirectoryCaPemSchema.safeParse(this.directoryCaPem);
    if (!url.success || !ca.success) {
      this.errors = {
        ...(url.success ? {} : { directoryUrl: zodIssues(url.error)[0]?.message ?? 'enter the directory URL' }),
        ...(ca.success ? {} : { directoryCaPem: zodIssues(ca.error)[0]?.message ?? "paste the directory's CA certificate as PEM" }),
      };
      return null;
    }
    this.reading = true;
    this.error = null;
    try {
      const info = await this.#api.getAcmeDirectory({ directoryUrl: url.data, directoryCaPem: ca.data });
      this.directory = info;
      this.acceptTerms = false;
      if (this.label.trim() === '') this.label = defaultAccountLabel(info.url);
      this.errors = {};
      return info;
    } catch (error) {
      ({ errors: this.errors, alert: this.error, rest: this.errorIssues } = refusal(error));
      return null;
    } finally {
      this.reading = false;
    }
  }

  inputOf(directory: AcmeDirectoryInfo) {
    return {
      label: this.label,
      directoryUrl: directory.url,
      email: this.email,
      termsAccepted: this.acceptTerms ? directory.termsOfService : null,
      eab: directory.externalAccountRequired ? { keyId: this.eabKeyId, hmacKey: this.eabHmacKey } : null,
      directoryCaPem: this.directoryCaPem,
    };
  }

  #check(directory: AcmeDirectoryInfo): Partial<Record<AccountField, string>> {
    const result = AcmeAccountInputSchema.safeParse(this.inputOf(directory));
    const { fields } = result.success ? { fields: {} } : splitIssues(zodIssues(result.error), accountFieldOf);
    const errors: Partial<Record<AccountField, string>> = { ...fields };
    if (directory.termsOfService !== null && !this.acceptTerms) errors.termsAccepted = 'accept the terms of service to make an account there';
    return errors;
  }

  /** Registers the account; returns it, or null when the fields (or the alert) say why not. */
  async submit(): Promise<AcmeAccountView | null> {
    const directory = this.directory;
    if (this.saving || !directory) return null;
    this.errors = this.#check(directory);
    if (Object.keys(this.errors).length > 0) return null;
    this.saving = true;
    try {
      const account = await this.#api.addAcmeAccount(AcmeAccountInputSchema.parse(this.inputOf(directory)));
      this.error = null;
      this.errorIssues = [];
      return account;
    } catch (error) {
      ({ errors: this.errors, alert: this.error, rest: this.errorIssues } = refusal(error));
      return null;
    } finally {
      this.saving = false;
    }
  }
}

/** Changing an account's name or contact email (the email is sent to the CA). */
export class AccountEdit {
  label = $state('');
  email = $state('');
  errors = $state<Partial<Record<AccountField, string>>>({});
  error = $state.raw<ApiError | null>(null);
  saving = $state(false);
  readonly id: string;
  readonly #api: Pick<ApiClient, 'updateAcmeAccount'>;

  constructor(api: Pick<ApiClient, 'updateAcmeAccount'>, account: Pick<AcmeAccountView, 'id' | 'label' | 'email'>) {
    this.#api = api;
    this.id = account.id;
    this.label = account.label;
    this.email = account.email;
  }

  edited(field: AccountField): void {
    if (this.errors[field] !== undefined) delete this.errors[field];
  }

  async submit(): Promise<AcmeAccountView | null> {
    if (this.saving) return null;
    const input = { id: this.id, label: this.label, email: this.email };
    const result = AcmeAccountUpdateSchema.safeParse(input);
    if (!result.success) {
      this.errors = splitIssues(zodIssues(result.error), accountFieldOf).fields;
      return null;
    }
    this.saving = true;
    try {
      const account = await this.#api.updateAcmeAccount(result.data);
      this.error = null;
      return account;
    } catch (error) {
      ({ errors: this.errors, alert: this.error } = refusal(error));
      return null;
    } finally {
      this.saving = false;
    }
  }
}
