// The route form's Let's Encrypt part: picking the mode fills in a usable choice (the first account,
// HTTP), the account's directory is read for its profiles (the select shows only when it lists
// some), and "Check setup" runs the pre-flight for the form's names as they are now.
import { PreflightInputSchema, type AcmeAccountView, type AcmeChallenge, type AcmeDirectoryInfo, type DnsProviderView, type PreflightReport, type RouteAcme } from '../../shared/acme.js';
import { ApiError, type ApiClient } from '../../shared/api.js';
import { asApiError, zodIssues } from '../app/errors.js';
import { lines } from '../format.js';
import { routeTlsOf, type RouteForm } from './route-form.svelte.js';

type Api = Pick<ApiClient, 'getAcmeDirectory' | 'preflightCertificate'>;

/** What a route starts with when Let's Encrypt is picked: the first account, HTTP, the CA's default profile. */
export function defaultRouteAcme(accounts: readonly Pick<AcmeAccountView, 'id'>[]): RouteAcme {
  return { accountId: accounts[0]?.id ?? '', challenge: 'http-01', dnsProviderId: null, profile: null, keyType: 'ecdsa-p256' };
}

export class AcmeChoice {
  /** Directory URL → what it said (null while asked, or when it could not be read). */
  #directories = $state<Record<string, AcmeDirectoryInfo | null>>({});
  report = $state.raw<PreflightReport | null>(null);
  /** Why the check could not run (the form is incomplete, or the request failed). */
  checkError = $state.raw<ApiError | null>(null);
  checking = $state(false);

  readonly #api: Api;
  readonly #formOf: () => RouteForm;

  /** `form`: the route form, read when needed (a component passes its prop as a getter). */
  constructor(api: Api, form: RouteForm | (() => RouteForm)) {
    this.#api = api;
    this.#formOf = typeof form === 'function' ? form : () => form;
  }

  get #form(): RouteForm {
    return this.#formOf();
  }

  get acme(): RouteAcme | null {
    return this.#form.values.tls.acme;
  }

  /** The mode was picked: keep an earlier choice, or start from the first account. */
  chooseMode(accounts: readonly AcmeAccountView[]): void {
    if (this.#form.values.tls.mode !== 'acme') return;
    if (this.#form.values.tls.acme === null) this.#form.values.tls.acme = defaultRouteAcme(accounts);
    else if (this.#form.values.tls.acme.accountId === '' && accounts[0]) this.#form.values.tls.acme.accountId = accounts[0].id;
  }

  /** The account changed: a profile its directory does not list would be refused, so it goes. */
  chooseAccount(account: AcmeAccountView | undefined): void {
    const acme = this.#form.values.tls.acme;
    this.#form.fieldErrors.edited('tlsAcmeAccount');
    if (!acme || !account) return;
    const profiles = this.profilesOf(account);
    if (acme.profile !== null && profiles !== null && !profiles.some((profile) => profile.name === acme.profile)) acme.profile = null;
    this.report = null;
  }

  chooseChallenge(challenge: AcmeChallenge, providers: readonly DnsProviderView[]): void {
    const acme = this.#form.values.tls.acme;
    if (!acme) return;
    acme.challenge = challenge;
    if (challenge === 'dns-01' && acme.dnsProviderId === null && providers[0]) acme.dnsProviderId = providers[0].id;
    this.#form.fieldErrors.edited('tlsAcmeChallenge');
    this.#form.fieldErrors.edited('tlsAcmeDnsProvider');
    this.report = null;
  }

  /** The profiles the account's directory lists; null until it has been read. */
  profilesOf(account: Pick<AcmeAccountView, 'directoryUrl'> | undefined): AcmeDirectoryInfo['profiles'] | null {
    if (!account) return null;
    return this.#directories[account.directoryUrl]?.profiles ?? null;
  }

  /** Reads the account's directory once (its profiles); a failure only hides the profile choice. */
  async loadDirectory(directoryUrl: string): Promise<void> {
    if (directoryUrl in this.#directories) return;
    this.#directories[directoryUrl] = null;
    try {
      this.#directories[directoryUrl] = await this.#api.getAcmeDirectory({ directoryUrl });
    } catch {
      // Without the directory the CA's default profile is used, which is always allowed.
    }
  }

  /** Runs the pre-flight for the names and choice as typed now. */
  async check(): Promise<PreflightReport | null> {
    if (this.checking) return null;
    const names = lines(this.#form.values.names);
    const acme = routeTlsOf(this.#form.values.tls).acme;
    const input = PreflightInputSchema.safeParse({ names, acme });
    if (!input.success) {
      const issue = zodIssues(input.error)[0];
      const message = names.length === 0 ? 'Enter the host names to check first.' : acme === null ? 'Choose an account first.' : `Finish the choice first: ${issue?.message ?? 'it is not complete'}.`;
      this.checkError = new ApiError('invalid_input', message);
      this.report = null;
      return null;
    }
    this.checking = true;
    this.checkError = null;
    try {
      this.report = await this.#api.preflightCertificate(input.data);
      return this.report;
    } catch (error) {
      this.checkError = asApiError(error);
      this.report = null;
      return null;
    } finally {
      this.checking = false;
    }
  }
}
