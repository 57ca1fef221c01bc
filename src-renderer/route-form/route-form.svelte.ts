// The add/edit route form: what the person typed, its problems according to the shared
// RouteInputSchema (no rule is repeated here), and saving with the server's verdict put back on the
// fields it names. Used by the Add route and Edit route pages and by the first-run guide.
import { ApiError, type FieldIssue } from '../../shared/api.js';
import { defaultRouteAccess, RouteAccessSchema, type RouteAccess } from '../../shared/access.js';
import { RouteAcmeSchema } from '../../shared/acme.js';
import { multiLabelLocalWarning, publishOnLanProblem, RouteInputSchema, type Route, type RouteInput, type RouteTls } from '../../shared/model.js';
import { asApiError, splitIssues, zodIssues } from '../app/errors.js';
import { FieldErrors, submitChecked } from '../app/field-errors.svelte.js';
import { lines } from '../format.js';
import { routeFieldOf, type RouteField } from './field-paths.js';
import {
  balancingOf,
  balancingValuesOf,
  defaultHealthValues,
  healthCheckOf,
  healthValuesOf,
  inSeconds,
  upstreamRow,
  upstreamRowsOf,
  upstreamTargetsOf,
  wholeNumber,
  type HealthCheckValues,
  type UpstreamRow,
} from './upstream-values.js';
import { BalancingSchema, HealthCheckSchema, MAX_UPSTREAMS, type UpstreamPolicy } from '../../shared/upstreams.js';
import type { RedirectStatus } from '../../shared/redirect.js';

export interface RouteFormValues {
  title: string;
  /** One host name per line. */
  names: string;
  /** Forward to the servers, or redirect every request (then the servers are kept but not sent). */
  action: 'forward' | 'redirect';
  /** The redirect, as typed; sent only with action 'redirect'. */
  redirect: RedirectValues;
  /** The servers, in order; at least one row. */
  upstreams: UpstreamRow[];
  /** Shown with two or more servers; kept (and sent) with one. */
  policy: UpstreamPolicy;
  /** Servers one request may be tried on, as typed. */
  tries: string;
  health: HealthCheckValues;
  enabled: boolean;
  websocket: boolean;
  insecureUpstreamTls: boolean;
  /** Empty = keep the client's Host header. */
  rewriteHost: string;
  /** Whose X-Forwarded-For this route believes; `trustedProxies` counts only for 'list'. */
  trustedProxiesChoice: TrustedProxiesChoice;
  /** One IP or CIDR per line, for 'list'. Kept while another choice is picked, so nothing typed is lost. */
  trustedProxies: string;
  /** HTTPS: which certificate, redirect and HSTS, as the route stores them. */
  tls: RouteTls;
  /** Answer mDNS for the route's .local names. */
  publishOnLan: boolean;
  /** The app preset behind the route ("jellyfin"), or null. */
  app: string | null;
  /** Who can reach this: exposure, lists, countries, sign-in, limits, scanners. */
  access: RouteAccess;
  /** The limits as typed (the body limit in MB, as people think of it); `access.limits` is ignored when sent. */
  limits: LimitsText;
}

export interface RedirectValues {
  to: string;
  status: RedirectStatus;
  keepPath: boolean;
}

export const REDIRECT_STATUS_LABELS: Record<RedirectStatus, string> = {
  301: '301 Moved permanently',
  308: '308 Permanent, keeps the method',
  302: '302 Found (temporary)',
  307: '307 Temporary, keeps the method',
};

function redirectValuesOf(redirect: { to: string; status?: RedirectStatus; keepPath?: boolean } | null | undefined): RedirectValues {
  return { to: redirect?.to ?? '', status: redirect?.status ?? 301, keepPath: redirect?.keepPath ?? true };
}

export interface LimitsText {
  requestsPerMinute: string;
  loginPerMinute: string;
  /** Megabytes (1,000,000 bytes); decimals allowed; 0 = no limit. */
  maxBodyMb: string;
}

const BYTES_PER_MB = 1_000_000;

export function limitsTextOf(access: RouteAccess): LimitsText {
  return {
    requestsPerMinute: String(access.limits.requestsPerMinute),
    loginPerMinute: String(access.limits.loginPerMinute),
    maxBodyMb: String(access.limits.maxBodyBytes / BYTES_PER_MB),
  };
}

/** Typed megabytes as bytes, or NaN. */
function megabytes(text: string): number {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Math.round(Number(text) * BYTES_PER_MB) : Number.NaN;
}

/** What the form says about a limit that is not a number at all (before the schema's own checks). */
function limitTextIssues(limits: LimitsText): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (Number.isNaN(wholeNumber(limits.requestsPerMinute))) issues.push({ path: 'access.limits.requestsPerMinute', message: 'enter a whole number of requests, such as 1200 (0 = no limit)' });
  if (Number.isNaN(wholeNumber(limits.loginPerMinute))) issues.push({ path: 'access.limits.loginPerMinute', message: 'enter a whole number of attempts, such as 10 (0 = no limit)' });
  if (Number.isNaN(megabytes(limits.maxBodyMb))) issues.push({ path: 'access.limits.maxBodyBytes', message: 'enter a size in MB, such as 100 or 0.5 (0 = no limit)' });
  return issues;
}

/**
 * The route's trustedProxies, which has three meanings that must not blur into one another:
 * 'global' = null (the list in Settings), 'nobody' = [] (no client may set X-Forwarded-For for
 * this route), 'list' = the addresses typed in the box.
 */
export type TrustedProxiesChoice = 'global' | 'nobody' | 'list';

/** Shown on the challenge as soon as a wildcard name meets the HTTP challenge (the CA would refuse it). */
export const wildcardNeedsDnsMessage = 'a wildcard needs the DNS challenge: choose DNS and a DNS provider';

/** The wildcard names when the form asks for a Let's Encrypt certificate over HTTP; empty otherwise. */
export function wildcardsOverHttp(values: Pick<RouteFormValues, 'names' | 'tls'>): string[] {
  if (values.tls.mode !== 'acme' || values.tls.acme?.challenge !== 'http-01') return [];
  return lines(values.names).filter((name) => name.startsWith('*.'));
}

/** Shown when "Only these addresses" is chosen with an empty box: saving it would mean "trust nobody". */
export const emptyTrustedListMessage = 'add at least one IP address or CIDR range, or choose another option';

export { routeFieldOf, routeFields, type HealthField, type RouteField, type UpstreamField } from './field-paths.js';

/** A new route gets a certificate from the local CA: HTTPS unless the person says otherwise. */
export function defaultRouteTls(): RouteTls {
  return { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' };
}

/**
 * The tls the route stores: the certificate only with 'custom', redirect and HSTS only with a
 * certificate. The form keeps what was chosen while another mode is picked, so switching back and
 * forth loses nothing; only what is sent is cleaned.
 */
export function routeTlsOf(tls: RouteTls): RouteTls {
  return {
    mode: tls.mode,
    certificateId: tls.mode === 'custom' ? tls.certificateId : null,
    acme: tls.mode === 'acme' && tls.acme ? { ...tls.acme, dnsProviderId: tls.acme.challenge === 'dns-01' ? tls.acme.dnsProviderId : null } : null,
    redirectHttp: tls.mode !== 'none' && tls.redirectHttp,
    hsts: tls.mode !== 'none' && tls.mode !== 'passthrough' && tls.hsts,
    proxyProtocol: tls.mode === 'passthrough' ? tls.proxyProtocol : 'off',
  };
}

export function emptyRouteValues(): RouteFormValues {
  return {
    title: '',
    names: '',
    action: 'forward',
    redirect: redirectValuesOf(null),
    upstreams: [upstreamRow()],
    ...balancingValuesOf(undefined),
    health: defaultHealthValues(),
    enabled: true,
    websocket: true,
    insecureUpstreamTls: false,
    rewriteHost: '',
    trustedProxiesChoice: 'global',
    trustedProxies: '',
    tls: defaultRouteTls(),
    publishOnLan: false,
    app: null,
    access: defaultRouteAccess(),
    limits: limitsTextOf(defaultRouteAccess()),
  };
}

export function routeValuesOf(route: Route): RouteFormValues {
  return {
    title: route.title ?? '',
    names: route.names.join('\n'),
    action: route.redirect ? 'redirect' : 'forward',
    redirect: redirectValuesOf(route.redirect),
    // A redirect route has no servers; the form still offers one empty row should it turn to forwarding.
    upstreams: route.upstreams.length > 0 ? upstreamRowsOf(route.upstreams) : [upstreamRow()],
    ...balancingValuesOf(route.balancing),
    health: healthValuesOf(route.healthCheck),
    enabled: route.enabled,
    websocket: route.websocket,
    insecureUpstreamTls: route.insecureUpstreamTls,
    rewriteHost: route.rewriteHost ?? '',
    trustedProxiesChoice: trustedProxiesChoiceOf(route.trustedProxies),
    trustedProxies: route.trustedProxies?.join('\n') ?? '',
    tls: { ...route.tls, acme: route.tls.acme ? { ...route.tls.acme } : null },
    publishOnLan: route.publishOnLan,
    app: route.app,
    access: structuredClone(route.access),
    limits: limitsTextOf(route.access),
  };
}

/** The form's values for a route that is not saved yet, such as one "Map it" proposes. */
export function routeValuesFrom(input: RouteInput): RouteFormValues {
  const defaults = emptyRouteValues();
  const trusted = input.trustedProxies ?? null;
  return {
    ...defaults,
    title: input.title ?? '',
    names: input.names.join('\n'),
    action: input.redirect ? 'redirect' : 'forward',
    redirect: redirectValuesOf(input.redirect),
    upstreams: 'upstream' in input ? upstreamRowsOf([{ url: input.upstream }]) : input.upstreams.length > 0 ? upstreamRowsOf(input.upstreams) : [upstreamRow()],
    ...balancingValuesOf(input.balancing ? BalancingSchema.parse(input.balancing) : undefined),
    health: healthValuesOf(HealthCheckSchema.parse(input.healthCheck ?? {})),
    enabled: input.enabled ?? defaults.enabled,
    websocket: input.websocket ?? defaults.websocket,
    insecureUpstreamTls: input.insecureUpstreamTls ?? defaults.insecureUpstreamTls,
    rewriteHost: input.rewriteHost ?? '',
    trustedProxiesChoice: trustedProxiesChoiceOf(trusted),
    trustedProxies: trusted?.join('\n') ?? '',
    tls: input.tls ? { ...defaults.tls, ...input.tls, acme: input.tls.acme ? RouteAcmeSchema.parse(input.tls.acme) : null } : defaults.tls,
    publishOnLan: input.publishOnLan ?? defaults.publishOnLan,
    app: input.app ?? null,
    access: input.access ? RouteAccessSchema.parse(input.access) : defaults.access,
    limits: input.access ? limitsTextOf(RouteAccessSchema.parse(input.access)) : defaults.limits,
  };
}

function trustedProxiesChoiceOf(trusted: Route['trustedProxies']): TrustedProxiesChoice {
  if (trusted === null) return 'global';
  return trusted.length === 0 ? 'nobody' : 'list';
}

function trustedProxiesOf(values: RouteFormValues): string[] | null {
  switch (values.trustedProxiesChoice) {
    case 'global':
      return null;
    case 'nobody':
      return [];
    case 'list':
      return lines(values.trustedProxies);
  }
}

/** What the form's values mean as API input: empty optional fields are left out or null. */
export function routeInputFrom(values: RouteFormValues): Extract<RouteInput, { upstreams: unknown }> {
  const title = values.title.trim();
  return {
    ...(title ? { title } : {}),
    names: lines(values.names),
    upstreams: values.action === 'redirect' ? [] : upstreamTargetsOf(values.upstreams),
    redirect: values.action === 'redirect' ? { to: values.redirect.to.trim(), status: values.redirect.status, keepPath: values.redirect.keepPath } : null,
    balancing: balancingOf(values.policy, values.tries),
    healthCheck: healthCheckOf(values.health),
    enabled: values.enabled,
    websocket: values.websocket,
    insecureUpstreamTls: values.insecureUpstreamTls,
    rewriteHost: values.rewriteHost.trim() || null,
    trustedProxies: trustedProxiesOf(values),
    tls: routeTlsOf(values.tls),
    publishOnLan: values.publishOnLan,
    app: values.app,
    access: accessOf(values),
  };
}

/** The access the route stores: the limits from what was typed, the chosen users only with "chosen". */
function accessOf(values: RouteFormValues): RouteAccess {
  const access = $state.snapshot(values.access) as RouteAccess;
  return {
    ...access,
    limits: {
      ...access.limits,
      requestsPerMinute: wholeNumber(values.limits.requestsPerMinute),
      loginPerMinute: wholeNumber(values.limits.loginPerMinute),
      maxBodyBytes: megabytes(values.limits.maxBodyMb),
    },
  };
}

/** "an ACME account id is required" means, to a person, that no account is chosen (or none exists yet). */
function noAccountWords(issue: FieldIssue, values: RouteFormValues): FieldIssue {
  if (issue.path !== 'tls.acme.accountId' || values.tls.acme?.accountId !== '') return issue;
  return { ...issue, message: "choose the account the certificate comes through, or add one on the Certificates page" };
}

type Check = { ok: true; input: RouteInput; errors: Partial<Record<RouteField, string>> } | { ok: false; errors: Partial<Record<RouteField, string>>; rest: FieldIssue[] };

function check(values: RouteFormValues): Check {
  const result = RouteInputSchema.safeParse(routeInputFrom(values));
  // Words for a limit that is not a number come first: the field shows its first issue.
  const issues = [...limitTextIssues(values.limits), ...(result.success ? [] : zodIssues(result.error).map(inSeconds).map((issue) => noAccountWords(issue, values)))];
  // The schema accepts [] (trust nobody); only the form knows that an empty box was meant as a list.
  if (values.trustedProxiesChoice === 'list' && lines(values.trustedProxies).length === 0) {
    issues.push({ path: 'trustedProxies', message: emptyTrustedListMessage });
  }
  // Not in the schema (it spans two fields); the gateway refuses such a route with the same words.
  const lanProblem = publishOnLanProblem({ names: lines(values.names).map((name) => name.toLowerCase()), publishOnLan: values.publishOnLan });
  if (lanProblem) issues.push({ path: 'publishOnLan', message: lanProblem });
  if (wildcardsOverHttp(values).length > 0) issues.push({ path: 'tls.acme.challenge', message: wildcardNeedsDnsMessage });
  if (result.success && issues.length === 0) return { ok: true, input: result.data, errors: {} };
  const { fields, rest } = splitIssues(issues, routeFieldOf);
  return { ok: false, errors: fields, rest };
}

export class RouteForm {
  values = $state<RouteFormValues>(emptyRouteValues());
  /** The server's refusal, for the alert; null when there is nothing to say beyond the fields. */
  error = $state.raw<ApiError | null>(null);
  /** The issues of `error` that name no field. */
  errorIssues = $state.raw<FieldIssue[]>([]);
  saving = $state(false);

  readonly #check = $derived(check(this.values));
  readonly fieldErrors = new FieldErrors<RouteField>(() => this.#check.errors, routeFieldOf);

  /** Names that resolve on some devices only (see multiLabelLocalWarning): a warning, not an error. */
  nameWarnings = $derived(
    lines(this.values.names).flatMap((name) => {
      const warning = multiLabelLocalWarning(name.toLowerCase());
      return warning ? [{ name, warning }] : [];
    }),
  );

  constructor(initial: RouteFormValues = emptyRouteValues()) {
    this.values = initial;
  }

  message(field: RouteField): string | null {
    const shown = this.fieldErrors.message(field);
    // Not waiting for the field to be left: the person just typed the wildcard or picked HTTP.
    if (shown === null && field === 'tlsAcmeChallenge' && wildcardsOverHttp(this.values).length > 0) return wildcardNeedsDnsMessage;
    return shown;
  }

  /** Whether the Host names box lists `name` (as typed, in any case). */
  hasName(name: string): boolean {
    return lines(this.values.names).some((line) => line.toLowerCase() === name.toLowerCase());
  }

  /** Puts `replacement` where `name` is in the Host names box (a conflict's suggestion). */
  replaceName(name: string, replacement: string): void {
    this.values.names = lines(this.values.names)
      .map((line) => (line.toLowerCase() === name.toLowerCase() ? replacement : line))
      .join('\n');
    this.fieldErrors.edited('names');
  }

  /** Two or more servers: only then are the policy and each server's flags worth showing. */
  get severalServers(): boolean {
    return this.values.upstreams.length > 1;
  }

  addServer(): void {
    if (this.values.upstreams.length >= MAX_UPSTREAMS) return;
    this.values.upstreams.push(upstreamRow());
  }

  /** Removes a row; the last one stays (a route needs a server), and is emptied instead. */
  removeServer(index: number): void {
    this.#serverRowsChanged();
    if (this.values.upstreams.length === 1) this.values.upstreams[0] = upstreamRow();
    else this.values.upstreams.splice(index, 1);
  }

  /** Moves a row up (-1) or down (+1): the order is the failover order. */
  moveServer(index: number, by: -1 | 1): void {
    const rows = this.values.upstreams;
    const target = index + by;
    if (target < 0 || target >= rows.length) return;
    this.#serverRowsChanged();
    [rows[index], rows[target]] = [rows[target]!, rows[index]!];
  }

  /** The server's verdicts are by row number: once rows move they name the wrong rows. */
  #serverRowsChanged(): void {
    for (let i = 0; i < this.values.upstreams.length; i += 1) {
      this.fieldErrors.edited(`upstreams.${i}.url`);
      this.fieldErrors.edited(`upstreams.${i}.weight`);
    }
    this.fieldErrors.edited('upstreams');
  }

  /**
   * Validates, then saves with `save` (addRoute or updateRoute). Returns the saved route, or null
   * when the form shows why it was not saved. An invalid form calls nothing.
   */
  async submit(save: (input: RouteInput) => Promise<Route>): Promise<Route | null> {
    return submitChecked(this, this.#check, 'route', save);
  }
}
