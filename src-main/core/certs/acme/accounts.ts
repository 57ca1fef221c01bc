// ACME accounts: registering at a directory (terms, EAB), contact changes, key rollover, and the
// acme-client Client an order uses. Settings hold the account (shared/acme.ts AcmeAccount, saved by
// the gateway); its key and URL live in account-files.ts, never in settings or the API.
import { randomBytes } from 'node:crypto';
import type { Client } from 'acme-client';
import { loadAcme } from './acme-library.js';
import type { AcmeAccount, AcmeAccountView, AcmeDirectoryInfo, AcmeProblem } from '../../../../shared/acme.js';
import { KNOWN_ACME_DIRECTORIES } from '../../../../shared/acme.js';
import { ApiError, type ApiParsedInput } from '../../../../shared/api.js';
import type { Route } from '../../../../shared/model.js';
import { routeLabel } from '../../gateway/route-edits.js';
import { AccountFiles, type AccountRecord } from './account-files.js';
import { directoryInfo, fetchDirectory, withDirectoryTrust } from './acme-http.js';
import { AcmeCaError, postNewAccount, postUrl } from './ca-requests.js';
import { acmeProblemOf } from './problems.js';

const ACCOUNT_KEY_TYPE = 'ECDSA P-256';
/** How long a directory's meta (terms, profiles, renewalInfo) is reused before it is read again, ms (1 hour). */
const DIRECTORY_MAX_AGE_MS = 60 * 60 * 1000;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function newAccountId(taken: readonly string[]): string {
  for (;;) {
    const id = [...randomBytes(10)].map((byte) => ID_ALPHABET[byte % 36]).join('');
    if (!taken.includes(id)) return id;
  }
}

function directoryLabel(url: string): string {
  return KNOWN_ACME_DIRECTORIES.find((directory) => directory.url === url)?.label ?? new URL(url).host;
}

function contactOf(email: string): string[] {
  return email === '' ? [] : [`mailto:${email}`];
}

/** An account-level failure as one sentence: the failure classes first, an account sentence when they have none. */
function accountProblem(error: unknown, directoryUrl: string, doing: string, fix: string): AcmeProblem {
  const classified = acmeProblemOf(error, { names: [], challenge: 'http-01', directoryUrl });
  if (classified.code !== 'internal') return classified;
  const said = error instanceof AcmeCaError ? (error.problem.detail ?? error.problem.type ?? error.message) : error instanceof Error ? error.message : String(error);
  const details = error instanceof AcmeCaError ? JSON.stringify(error.problem) : said;
  return { code: error instanceof AcmeCaError ? 'ca_error' : 'ca_unreachable', message: `${doing} failed: ${directoryLabel(directoryUrl)} answered "${said}".`, fix, details, retryAt: null };
}

/** The account form's field a failure belongs to, so a form can mark it: a refused EAB pair, a directory certificate not trusted here. */
function fieldIssuesOf(problem: AcmeProblem): { path: string; message: string }[] {
  if (problem.code === 'eab_rejected') return [{ path: 'eab.hmacKey', message: 'the CA refused this EAB key id and HMAC key; copy both again from its dashboard' }];
  if (problem.code === 'ca_unreachable' && /CA certificate of this directory/.test(problem.fix ?? '')) {
    return [{ path: 'directoryCaPem', message: "the directory's HTTPS certificate is not trusted here: paste the CA certificate it is signed by" }];
  }
  return [];
}

function apiErrorOf(problem: AcmeProblem): ApiError {
  const issues = fieldIssuesOf(problem);
  return new ApiError('conflict', problem.message, { ...(problem.fix ? { fix: problem.fix } : {}), ...(issues.length > 0 ? { issues } : {}) });
}

interface AccountState {
  record: AccountRecord | null;
  problem: AcmeProblem | null;
}

export class AcmeAccounts {
  readonly #files: AccountFiles;
  readonly #states = new Map<string, AccountState>();
  readonly #directories = new Map<string, { info: AcmeDirectoryInfo; renewalInfoUrl: string | null; at: number }>();
  /** Clients by account id, with the key they sign with (a rollover makes a new one). */
  readonly #clients = new Map<string, { client: Client; keyPem: string }>();

  constructor(dataDir: string) {
    this.#files = new AccountFiles(dataDir);
  }

  /** Reads the stored records of the accounts in settings. */
  async load(accounts: readonly AcmeAccount[]): Promise<void> {
    for (const account of accounts) {
      const stored = await this.#files.read(account.id);
      this.#states.set(account.id, { record: stored?.record ?? null, problem: null });
    }
  }

  /** Forgets every account's state and client, then reads the stored records again (after a restore). */
  async reload(accounts: readonly AcmeAccount[]): Promise<void> {
    this.#states.clear();
    this.#clients.clear();
    await this.load(accounts);
  }

  /** The directory's meta, read at most once an hour; ApiError 'conflict' with the fix when it cannot be read. */
  async directory(url: string, caPem: string | null, fresh = false): Promise<AcmeDirectoryInfo> {
    return (await this.#directory(url, caPem, fresh)).info;
  }

  /** The directory's renewalInfo URL (ARI), or null when it offers none or cannot be read now. */
  async renewalInfoUrl(account: AcmeAccount): Promise<string | null> {
    return (await this.#directory(account.directoryUrl, account.directoryCaPem, false).catch(() => null))?.renewalInfoUrl ?? null;
  }

  async #directory(url: string, caPem: string | null, fresh: boolean) {
    const cached = this.#directories.get(url);
    if (cached && !fresh && Date.now() - cached.at < DIRECTORY_MAX_AGE_MS) return cached;
    try {
      const document = await fetchDirectory(url, caPem);
      const entry = { info: directoryInfo(url, document), renewalInfoUrl: document.renewalInfo ?? null, at: Date.now() };
      this.#directories.set(url, entry);
      return entry;
    } catch (error) {
      const problem = accountProblem(error, url, `Reading the ACME directory ${url}`, 'Check the directory URL (it ends in /directory for most CAs) and that this machine reaches it; for a CA on your LAN, paste its CA certificate.');
      throw apiErrorOf({ ...problem, message: problem.code === 'ca_unreachable' ? `Gatehouse could not read the ACME directory at ${url}: ${error instanceof Error ? error.message : String(error)}.` : problem.message });
    }
  }

  /** Registers a new account at its directory and stores its key; returns the account for settings. */
  async register(input: ApiParsedInput<'addAcmeAccount'>, taken: readonly string[]): Promise<AcmeAccount> {
    const info = await this.directory(input.directoryUrl, input.directoryCaPem, true);
    if (info.termsOfService !== null && input.termsAccepted !== info.termsOfService) {
      throw new ApiError('conflict', `${directoryLabel(input.directoryUrl)} asks you to accept its terms of service (${info.termsOfService}) before it makes an account.`, {
        fix: `Read the terms at ${info.termsOfService}, then accept them: send that URL as termsAccepted.`,
        issues: [{ path: 'termsAccepted', message: `accept the current terms: ${info.termsOfService}` }],
      });
    }
    if (info.externalAccountRequired && input.eab === null) {
      throw new ApiError('conflict', `${directoryLabel(input.directoryUrl)} makes accounts only with External Account Binding (a key id and HMAC key from the CA).`, {
        fix: "Get the EAB key id and HMAC key from the CA's website (its ACME or API settings) and enter them with the account.",
        issues: [{ path: 'eab', message: 'this directory needs an EAB key id and HMAC key' }],
      });
    }
    const id = newAccountId(taken);
    const acme = await loadAcme();
    const keyPem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    const client = new acme.Client({
      directoryUrl: input.directoryUrl,
      accountKey: keyPem,
      ...(input.eab ? { externalAccountBinding: { kid: input.eab.keyId, hmacKey: input.eab.hmacKey } } : {}),
    });
    const payload = { termsOfServiceAgreed: info.termsOfService !== null, contact: contactOf(input.email) };
    const registered = await withDirectoryTrust(input.directoryCaPem, () => postNewAccount(client, 'registering the account', payload)).catch((error: unknown) => {
      const fix = input.eab
        ? 'Check the EAB key id and HMAC key (copy them again from the CA; each pair may work only once), then add the account again.'
        : 'Check the directory and your email address, then add the account again.';
      throw apiErrorOf(accountProblem(error, input.directoryUrl, 'Registering the account', fix));
    });
    // The EAB HMAC key was needed for this request only: it is not stored anywhere.
    const record: AccountRecord = { url: registered.url, keyType: ACCOUNT_KEY_TYPE, keyCreatedAt: new Date().toISOString() };
    await this.#files.write(id, keyPem, record);
    this.#states.set(id, { record, problem: null });
    return {
      id,
      label: input.label,
      directoryUrl: input.directoryUrl,
      email: input.email,
      termsAccepted: info.termsOfService,
      eabKeyId: input.eab?.keyId ?? null,
      directoryCaPem: input.directoryCaPem,
    };
  }

  /** Sends a changed contact email (and newly accepted terms) to the CA; returns the account for settings. */
  async update(account: AcmeAccount, patch: ApiParsedInput<'updateAcmeAccount'>): Promise<AcmeAccount> {
    const next = { ...account, ...(patch.label !== undefined ? { label: patch.label } : {}), ...(patch.email !== undefined ? { email: patch.email } : {}) };
    if (patch.termsAccepted !== undefined) {
      const info = await this.directory(account.directoryUrl, account.directoryCaPem, true);
      if (patch.termsAccepted !== info.termsOfService) {
        throw new ApiError('conflict', `The directory's current terms are ${info.termsOfService ?? 'none'}, not ${patch.termsAccepted}.`, {
          fix: 'Read the current terms and accept those.',
          issues: [{ path: 'termsAccepted', message: `accept the current terms: ${info.termsOfService ?? 'none'}` }],
        });
      }
      next.termsAccepted = info.termsOfService;
    }
    const emailChanged = patch.email !== undefined && patch.email !== account.email;
    if (emailChanged || patch.termsAccepted !== undefined) {
      const client = await this.clientFor(account);
      const payload = { contact: contactOf(next.email), ...(patch.termsAccepted !== undefined ? { termsOfServiceAgreed: true } : {}) };
      await withDirectoryTrust(account.directoryCaPem, () => postUrl(client, 'updating the account', this.#record(account.id).url, payload)).catch((error: unknown) => {
        throw apiErrorOf(accountProblem(error, account.directoryUrl, 'Updating the account', 'Check the email address, then try again.'));
      });
    }
    return next;
  }

  /** RFC 8555 §7.3.5 key change: the CA confirms the new key before the old one is dropped. */
  async rollover(account: AcmeAccount): Promise<void> {
    const client = await this.clientFor(account);
    const record = this.#record(account.id);
    const acme = await loadAcme();
    const keyPem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    await this.#files.stageNextKey(account.id, keyPem);
    try {
      await withDirectoryTrust(account.directoryCaPem, () => client.updateAccountKey(keyPem));
    } catch (error) {
      await this.#files.dropNextKey(account.id);
      throw apiErrorOf(accountProblem(error, account.directoryUrl, 'Replacing the account key', 'The old key is still in use; try again later.'));
    }
    const next: AccountRecord = { ...record, keyType: ACCOUNT_KEY_TYPE, keyCreatedAt: new Date().toISOString() };
    await this.#files.promoteNextKey(account.id, next);
    this.#states.set(account.id, { record: next, problem: null });
    this.#clients.delete(account.id);
  }

  /** Refuses while a route uses the account (naming them); otherwise removes its key. */
  assertRemovable(account: AcmeAccount, routes: readonly Route[]): void {
    const users = routes.filter((route) => route.tls.mode === 'acme' && route.tls.acme?.accountId === account.id);
    if (users.length > 0) {
      throw new ApiError('conflict', `The ACME account "${account.label}" is used by ${users.map((route) => `"${routeLabel(route)}"`).join(', ')}.`, {
        fix: 'Choose another account (or another HTTPS mode) for those routes first, then remove it.',
      });
    }
  }

  async forget(accountId: string): Promise<void> {
    await this.#files.remove(accountId);
    this.#states.delete(accountId);
    this.#clients.delete(accountId);
  }

  /** The acme-client Client for the account's current key. Rejects when the account has no stored key. */
  async clientFor(account: AcmeAccount): Promise<Client> {
    const stored = await this.#files.read(account.id);
    if (!stored) {
      throw new ApiError('conflict', `The ACME account "${account.label}" has no key in this data directory (it was made elsewhere, or its files were removed).`, {
        fix: 'Add the account again on the Certificates page and choose it for the route.',
      });
    }
    let keyPem = stored.keyPem;
    if (stored.nextKeyPem !== null) keyPem = await this.#settlePendingKey(account, stored.keyPem, stored.nextKeyPem, stored.record);
    const cached = this.#clients.get(account.id);
    if (cached && cached.keyPem === keyPem) return cached.client;
    const acme = await loadAcme();
    const client = new acme.Client({ directoryUrl: account.directoryUrl, accountKey: keyPem, accountUrl: stored.record.url });
    this.#clients.set(account.id, { client, keyPem });
    return client;
  }

  /**
   * A rollover was cut short (a crash): whichever key the CA knows stays. Only the CA saying
   * accountDoesNotExist for the new key drops it; a CA that cannot be asked (network down at boot)
   * proves nothing, so both keys are kept and the question is asked again at the next use.
   */
  async #settlePendingKey(account: AcmeAccount, currentPem: string, nextPem: string, record: AccountRecord): Promise<string> {
    const acme = await loadAcme();
    const probe = new acme.Client({ directoryUrl: account.directoryUrl, accountKey: nextPem });
    const known = await withDirectoryTrust(account.directoryCaPem, () => postNewAccount(probe, 'finding the account', { onlyReturnExisting: true })).then(
      () => true as const,
      (error: unknown) => error,
    );
    if (known === true) {
      await this.#files.promoteNextKey(account.id, record);
      return nextPem;
    }
    if (known instanceof AcmeCaError && known.problem.type === 'urn:ietf:params:acme:error:accountDoesNotExist') {
      await this.#files.dropNextKey(account.id);
      return currentPem;
    }
    const problem = accountProblem(known, account.directoryUrl, 'Checking which account key the CA knows', '');
    throw new ApiError(
      'conflict',
      `A key change of the ACME account "${account.label}" was cut short, and Gatehouse could not ask ${directoryLabel(account.directoryUrl)} which key it now knows (${problem.details ?? problem.message}).`,
      { fix: 'Check that this machine reaches the CA; Gatehouse keeps both keys and asks again at the next order or account change.' },
    );
  }

  #record(accountId: string): AccountRecord {
    const record = this.#states.get(accountId)?.record;
    if (!record) throw new ApiError('conflict', 'This ACME account is not registered in this data directory.', { fix: 'Add the account again on the Certificates page.' });
    return record;
  }

  /** Notes a failure an order met with the account itself (refused key, changed terms). */
  setProblem(accountId: string, problem: AcmeProblem | null): void {
    const state = this.#states.get(accountId);
    if (state) state.problem = problem;
  }

  views(accounts: readonly AcmeAccount[], routes: readonly Route[]): AcmeAccountView[] {
    return accounts.map((account) => {
      const state = this.#states.get(account.id);
      const record = state?.record ?? null;
      const terms = this.#directories.get(account.directoryUrl)?.info.termsOfService ?? null;
      return {
        ...account,
        directoryLabel: directoryLabel(account.directoryUrl),
        status: state?.problem ? 'error' : record ? 'registered' : 'unregistered',
        accountUrl: record?.url ?? null,
        keyType: record?.keyType ?? null,
        keyCreatedAt: record?.keyCreatedAt ?? null,
        termsChanged: terms !== null && terms !== account.termsAccepted ? terms : null,
        // The HMAC key is used once, to register, and never kept: nothing is stored to be "set".
        eabKeySet: false,
        problem: state?.problem ?? null,
        usedBy: routes.filter((route) => route.tls.mode === 'acme' && route.tls.acme?.accountId === account.id).map((route) => route.id),
      };
    });
  }
}
