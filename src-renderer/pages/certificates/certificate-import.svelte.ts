// Importing a custom certificate: label, certificate, key and optional chain, each pasted or read
// from a file; the server's checks (key matches, chain builds, dates) come back on their fields.
import { endpoints, type ApiClient, type ApiError, type FieldIssue } from '../../../shared/api.js';
import type { CustomCertificate } from '../../../shared/status.js';
import { asApiError, splitIssues, zodIssues } from '../../app/errors.js';

export const importFields = ['label', 'certificatePem', 'privateKeyPem', 'chainPem'] as const;
export type ImportField = (typeof importFields)[number];

export type ImportValues = Record<ImportField, string>;

export function importFieldOf(path: string): ImportField | null {
  const first = path.split('.')[0] ?? '';
  return (importFields as readonly string[]).includes(first) ? (first as ImportField) : null;
}

/** The API input: empty label and chain are left out. */
export function importInputOf(values: ImportValues): { label?: string; certificatePem: string; privateKeyPem: string; chainPem?: string } {
  return {
    ...(values.label.trim() ? { label: values.label.trim() } : {}),
    certificatePem: values.certificatePem,
    privateKeyPem: values.privateKeyPem,
    ...(values.chainPem.trim() ? { chainPem: values.chainPem } : {}),
  };
}

const emptyMessages: Partial<Record<ImportField, string>> = {
  certificatePem: 'paste the certificate (PEM, the text starting with -----BEGIN)',
  privateKeyPem: 'paste the private key (PEM, the text starting with -----BEGIN)',
};

export class CertificateImport {
  values = $state<ImportValues>({ label: '', certificatePem: '', privateKeyPem: '', chainPem: '' });
  errors = $state<Partial<Record<ImportField, string>>>({});
  error = $state.raw<ApiError | null>(null);
  errorIssues = $state.raw<FieldIssue[]>([]);
  saving = $state(false);

  readonly #api: Pick<ApiClient, 'importCertificate'>;

  constructor(api: Pick<ApiClient, 'importCertificate'>) {
    this.#api = api;
  }

  /** The person changed a field: its old message no longer applies. */
  edited(field: ImportField): void {
    if (this.errors[field] !== undefined) delete this.errors[field];
  }

  #check(): Partial<Record<ImportField, string>> {
    const result = endpoints.importCertificate.input.safeParse(importInputOf(this.values));
    const { fields } = result.success ? { fields: {} } : splitIssues(zodIssues(result.error), importFieldOf);
    const errors: Partial<Record<ImportField, string>> = { ...fields };
    for (const [field, message] of Object.entries(emptyMessages) as [ImportField, string][]) {
      if (this.values[field].trim() === '') errors[field] ??= message;
    }
    return errors;
  }

  /** Imports; returns the certificate, or null when the fields (or the alert) say why not. */
  async submit(): Promise<CustomCertificate | null> {
    if (this.saving) return null;
    this.errors = this.#check();
    if (Object.keys(this.errors).length > 0) return null;
    this.saving = true;
    try {
      const cert = await this.#api.importCertificate(importInputOf(this.values));
      this.values = { label: '', certificatePem: '', privateKeyPem: '', chainPem: '' };
      this.error = null;
      this.errorIssues = [];
      return cert;
    } catch (error) {
      const failure = asApiError(error);
      const { fields, rest } = splitIssues(failure.details.issues ?? [], importFieldOf);
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
