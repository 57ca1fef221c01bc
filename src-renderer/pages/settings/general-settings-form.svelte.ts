// The Settings page's form: ports, bind address, startup, trusted proxies, multicast DNS, who sees
// error details, the access logs, the admin's extra host names, and the limits on connections to
// each upstream with its body idle timeout, validated with the
// shared SettingsPatchSchema. Only what changed is sent, so saving the start-up options does not
// restart the listeners.
import type { ApiError, FieldIssue } from '../../../shared/api.js';
import { UpstreamLimitsSchema } from '../../../shared/upstreams.js';
import { SettingsPatchSchema, type ErrorDetailAudience, type GeneralSettings, type SettingsPatch } from '../../../shared/model.js';
import { asApiError, splitIssues, zodIssues } from '../../app/errors.js';
import { FieldErrors } from '../../app/field-errors.svelte.js';
import { lines } from '../../format.js';

export interface SettingsFormValues {
  httpPort: string;
  httpsPort: string;
  bindAddress: string;
  startOnLaunch: boolean;
  startAtLogin: boolean;
  /** One IP or CIDR per line. */
  trustedProxies: string;
  /** Multicast DNS on the LAN: discovery and publishing names (lan.mdns). */
  mdns: boolean;
  /** Who sees a failure's details on error pages (proxy.errorDetails). */
  errorDetails: ErrorDetailAudience;
  /** Extra names the admin answers to, one per line (admin.allowedHosts). */
  allowedHosts: string;
  /** access.log, the Logs page's source (log.accessLog; default on). */
  accessLog: boolean;
  /** access-combined.log in nginx's format, for CrowdSec (log.combinedLog; default off). */
  combinedLog: boolean;
  /** proxy.upstreamLimits, as typed: connections per upstream, per client, and the wait in seconds. */
  upstreamConnections: string;
  upstreamPerClient: string;
  upstreamWaitS: string;
  /** proxy.timeouts.upstreamBodyIdleMs in seconds; 0 = never. */
  bodyIdleS: string;
}

export const settingsFields = ['httpPort', 'httpsPort', 'bindAddress', 'startOnLaunch', 'startAtLogin', 'trustedProxies', 'mdns', 'errorDetails', 'allowedHosts', 'accessLog', 'combinedLog', 'upstreamConnections', 'upstreamPerClient', 'upstreamWaitS', 'bodyIdleS'] as const;
export type SettingsField = (typeof settingsFields)[number];

/** The form fields of settings nested one level deeper than the rest. */
const nestedFields: Record<string, SettingsField> = {
  'proxy.upstreamLimits.connections': 'upstreamConnections',
  'proxy.upstreamLimits.perClient': 'upstreamPerClient',
  'proxy.upstreamLimits.waitMs': 'upstreamWaitS',
  'proxy.timeouts.upstreamBodyIdleMs': 'bodyIdleS',
};

/** What the form says, in seconds, when the schema refuses a time it takes in milliseconds. */
const secondsMessages: Partial<Record<SettingsField, string>> = {
  upstreamWaitS: `enter seconds from 0 to ${(UpstreamLimitsSchema.shape.waitMs.maxValue ?? 0) / 1000}, such as 10`,
  bodyIdleS: 'enter seconds, such as 60 (0 = never)',
};

/** "proxy.httpPort", "proxy.trustedProxies.2", "admin.allowedHosts.0" and "lan.mdns" name form fields; anything else goes to the alert. */
export function settingsFieldOf(path: string): SettingsField | null {
  const nested = nestedFields[path.split('.').slice(0, 3).join('.')];
  if (nested) return nested;
  const field = path.split('.')[1] ?? '';
  return (settingsFields as readonly string[]).includes(field) ? (field as SettingsField) : null;
}

/** A port as typed: digits only, anything else is NaN so the schema's own message explains it. */
export function portFrom(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

export function settingsValuesOf(settings: GeneralSettings): SettingsFormValues {
  return {
    httpPort: String(settings.proxy.httpPort),
    httpsPort: String(settings.proxy.httpsPort),
    bindAddress: settings.proxy.bindAddress,
    startOnLaunch: settings.proxy.startOnLaunch,
    startAtLogin: settings.app.startAtLogin,
    trustedProxies: settings.proxy.trustedProxies.join('\n'),
    mdns: settings.lan.mdns,
    errorDetails: settings.proxy.errorDetails,
    allowedHosts: settings.admin.allowedHosts.join('\n'),
    accessLog: settings.log.accessLog,
    combinedLog: settings.log.combinedLog,
    upstreamConnections: String(settings.proxy.upstreamLimits.connections),
    upstreamPerClient: String(settings.proxy.upstreamLimits.perClient),
    upstreamWaitS: String(settings.proxy.upstreamLimits.waitMs / 1000),
    bodyIdleS: String(settings.proxy.timeouts.upstreamBodyIdleMs / 1000),
  };
}

/** Typed seconds as milliseconds (decimals allowed), or NaN. */
function secondsAsMs(text: string): number {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Math.round(Number(text) * 1000) : Number.NaN;
}

/** The patch that turns `saved` into what the form says: changed fields only. */
export function settingsPatchFrom(values: SettingsFormValues, saved: GeneralSettings): SettingsPatch {
  const proxy: NonNullable<SettingsPatch['proxy']> = {};
  const httpPort = portFrom(values.httpPort);
  const httpsPort = portFrom(values.httpsPort);
  const bindAddress = values.bindAddress.trim();
  const trustedProxies = lines(values.trustedProxies);
  if (httpPort !== saved.proxy.httpPort) proxy.httpPort = httpPort;
  if (httpsPort !== saved.proxy.httpsPort) proxy.httpsPort = httpsPort;
  if (bindAddress !== saved.proxy.bindAddress) proxy.bindAddress = bindAddress;
  if (values.startOnLaunch !== saved.proxy.startOnLaunch) proxy.startOnLaunch = values.startOnLaunch;
  if (trustedProxies.join('\n') !== saved.proxy.trustedProxies.join('\n')) proxy.trustedProxies = trustedProxies;
  if (values.errorDetails !== saved.proxy.errorDetails) proxy.errorDetails = values.errorDetails;
  // The limits go as one object: the rule that ties them (per client ≤ per upstream) sees both.
  const limits = { connections: portFrom(values.upstreamConnections), perClient: portFrom(values.upstreamPerClient), waitMs: secondsAsMs(values.upstreamWaitS) };
  const savedLimits = saved.proxy.upstreamLimits;
  if (limits.connections !== savedLimits.connections || limits.perClient !== savedLimits.perClient || limits.waitMs !== savedLimits.waitMs) proxy.upstreamLimits = limits;
  const bodyIdleMs = secondsAsMs(values.bodyIdleS);
  if (bodyIdleMs !== saved.proxy.timeouts.upstreamBodyIdleMs) proxy.timeouts = { upstreamBodyIdleMs: bodyIdleMs };
  const allowedHosts = lines(values.allowedHosts);
  const patch: SettingsPatch = {};
  if (Object.keys(proxy).length > 0) patch.proxy = proxy;
  if (allowedHosts.join('\n') !== saved.admin.allowedHosts.join('\n')) patch.admin = { allowedHosts };
  if (values.startAtLogin !== saved.app.startAtLogin) patch.app = { startAtLogin: values.startAtLogin };
  if (values.mdns !== saved.lan.mdns) patch.lan = { mdns: values.mdns };
  const log: NonNullable<SettingsPatch['log']> = {};
  if (values.accessLog !== saved.log.accessLog) log.accessLog = values.accessLog;
  if (values.combinedLog !== saved.log.combinedLog) log.combinedLog = values.combinedLog;
  if (Object.keys(log).length > 0) patch.log = log;
  return patch;
}

export type SaveOutcome = 'saved' | 'unchanged' | 'invalid' | 'refused';

export class GeneralSettingsForm {
  /** The settings as Gatehouse has them: read when the form starts and after each save. */
  saved: GeneralSettings;
  values: SettingsFormValues;
  error = $state.raw<ApiError | null>(null);
  errorIssues = $state.raw<FieldIssue[]>([]);
  saving = $state(false);

  /** The patch, and each field's problem according to the schema. */
  readonly #check = $derived.by(() => {
    const patch = settingsPatchFrom(this.values, this.saved);
    const result = SettingsPatchSchema.safeParse(patch);
    const errors = result.success ? {} : splitIssues(zodIssues(result.error), settingsFieldOf).fields;
    for (const field of Object.keys(secondsMessages) as SettingsField[]) if (errors[field]) errors[field] = secondsMessages[field];
    return { patch, errors };
  });
  readonly fieldErrors = new FieldErrors<SettingsField>(() => this.#check.errors, settingsFieldOf);

  /** True when the form says something other than what is saved. */
  changed = $derived(Object.keys(this.#check.patch).length > 0);

  constructor(saved: GeneralSettings) {
    this.saved = $state.raw(saved);
    this.values = $state(settingsValuesOf(saved));
  }

  message(field: SettingsField): string | null {
    return this.fieldErrors.message(field);
  }

  /** Someone changed the settings elsewhere: follow them, unless the person has unsaved edits here. */
  follow(settings: GeneralSettings): void {
    if (this.changed || this.saving) return;
    this.saved = settings;
    this.values = settingsValuesOf(settings);
  }

  async save(update: (patch: SettingsPatch) => Promise<GeneralSettings>): Promise<SaveOutcome> {
    if (this.saving) return 'invalid';
    if (!this.fieldErrors.attemptSubmit()) return 'invalid';
    const { patch } = this.#check;
    if (Object.keys(patch).length === 0) return 'unchanged';
    this.saving = true;
    this.error = null;
    this.errorIssues = [];
    try {
      const settings = await update(patch);
      this.saved = settings;
      this.values = settingsValuesOf(settings);
      this.fieldErrors.reset();
      return 'saved';
    } catch (caught) {
      ({ alert: this.error, issues: this.errorIssues } = this.fieldErrors.showRefusal(asApiError(caught)));
      return 'refused';
    } finally {
      this.saving = false;
    }
  }
}
