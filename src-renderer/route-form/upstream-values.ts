// The route form's servers, balancing and health check as typed (text for numbers, seconds for
// times), and how they become the route's `upstreams`, `balancing` and `healthCheck`. Every rule
// stays in shared/upstreams.ts; this file only converts, and says in seconds what the schemas say
// in milliseconds.
import type { FieldIssue } from '../../shared/api.js';
import {
  ActiveCheckSchema,
  defaultBalancing,
  defaultHealthCheck,
  PassiveCheckSchema,
  type Balancing,
  type HealthCheck,
  type PresetCheck,
  type UpstreamPolicy,
  type UpstreamTarget,
  type UpstreamTargetInput,
} from '../../shared/upstreams.js';

export interface UpstreamRow {
  /** Stable while rows move, so Svelte keeps each row's inputs (and focus) with it. */
  key: number;
  address: string;
  /** A whole number 1–100, as typed. */
  weight: string;
  backup: boolean;
  drained: boolean;
}

export interface HealthCheckValues {
  activeEnabled: boolean;
  kind: 'http' | 'tcp';
  path: string;
  statusFrom: string;
  statusTo: string;
  /** Empty: any body passes. */
  bodyContains: string;
  /** Seconds, decimals allowed. */
  intervalS: string;
  timeoutS: string;
  fails: string;
  passes: string;
  passiveEnabled: boolean;
  serverErrors: boolean;
  cooldownS: string;
}

/** The policies whose picks follow the weights: the weight box is shown only for these. */
export const WEIGHTED_POLICIES: readonly UpstreamPolicy[] = ['round_robin', 'sticky_cookie', 'client_hash'];

/** One line under the Balancing choice: what the chosen policy does, in the words of shared/upstreams.ts. */
export const POLICY_EXPLAINED: Record<UpstreamPolicy, string> = {
  failover: 'Every request goes to the first available server; the next one takes over while it is down.',
  round_robin: 'Requests take turns over the available servers, more often to those with a higher weight.',
  least_connections: 'Each request goes to the available server with the fewest requests under way.',
  client_hash: 'Each client address always reaches the same server while it is available (weights count).',
  sticky_cookie: 'A browser keeps the server of its first request (a cookie); if that one is down, another takes over.',
};

let nextKey = 1;

export function upstreamRow(target: Partial<UpstreamTarget> = {}): UpstreamRow {
  return { key: nextKey++, address: target.url ?? '', weight: String(target.weight ?? 1), backup: target.backup ?? false, drained: target.drained ?? false };
}

/** The rows for a route's stored or proposed upstreams (at least one, empty, for a new route). */
export function upstreamRowsOf(targets: readonly UpstreamTargetInput[]): UpstreamRow[] {
  return targets.length === 0 ? [upstreamRow()] : targets.map((target) => upstreamRow({ ...target, url: String(target.url) }));
}

/** A typed whole number, or NaN (the schema then says what is expected). */
export function wholeNumber(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

/** Typed seconds as milliseconds, or NaN. */
function secondsAsMs(text: string): number {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Math.round(Number(text) * 1000) : Number.NaN;
}

const seconds = (ms: number) => String(ms / 1000);

export function upstreamTargetsOf(rows: readonly UpstreamRow[]): UpstreamTargetInput[] {
  return rows.map((row) => ({ url: row.address, weight: wholeNumber(row.weight), backup: row.backup, drained: row.drained }));
}

export function healthValuesOf(check: HealthCheck): HealthCheckValues {
  const { active, passive } = check;
  return {
    activeEnabled: active.enabled,
    kind: active.kind,
    path: active.path,
    statusFrom: String(active.statusFrom),
    statusTo: String(active.statusTo),
    bodyContains: active.bodyContains ?? '',
    intervalS: seconds(active.intervalMs),
    timeoutS: seconds(active.timeoutMs),
    fails: String(active.fails),
    passes: String(active.passes),
    passiveEnabled: passive.enabled,
    serverErrors: passive.serverErrors,
    cooldownS: seconds(passive.cooldownMs),
  };
}

export function defaultHealthValues(): HealthCheckValues {
  return healthValuesOf(defaultHealthCheck());
}

/** The health check an app's preset suggests (Plex: GET /identity), on top of the defaults. */
export function presetHealthCheck(preset: PresetCheck | null): HealthCheck {
  const check = defaultHealthCheck();
  if (preset) check.active = { ...check.active, kind: 'http', path: preset.path, statusFrom: preset.statusFrom, statusTo: preset.statusTo, bodyContains: preset.bodyContains };
  return check;
}

export function healthCheckOf(values: HealthCheckValues): HealthCheck {
  const body = values.bodyContains;
  return {
    active: {
      enabled: values.activeEnabled,
      kind: values.kind,
      path: values.path.trim(),
      statusFrom: wholeNumber(values.statusFrom),
      statusTo: wholeNumber(values.statusTo),
      bodyContains: body.trim() === '' ? null : body,
      intervalMs: secondsAsMs(values.intervalS),
      timeoutMs: secondsAsMs(values.timeoutS),
      fails: wholeNumber(values.fails),
      passes: wholeNumber(values.passes),
    },
    passive: { enabled: values.passiveEnabled, serverErrors: values.serverErrors, cooldownMs: secondsAsMs(values.cooldownS) },
  };
}

export function balancingOf(policy: UpstreamPolicy, tries: string): Balancing {
  return { policy, tries: wholeNumber(tries) };
}

export function balancingValuesOf(balancing: Balancing | undefined): { policy: UpstreamPolicy; tries: string } {
  const { policy, tries } = balancing ?? defaultBalancing();
  return { policy, tries: String(tries) };
}

/** The times the form takes in seconds, by issue path, with the schema's bounds (in ms). */
const SECOND_FIELDS: Record<string, { what: string; min: number; max: number }> = {
  'healthCheck.active.intervalMs': { what: 'the check interval', ...bounds(ActiveCheckSchema.shape.intervalMs.unwrap()) },
  'healthCheck.active.timeoutMs': { what: 'the check timeout', ...bounds(ActiveCheckSchema.shape.timeoutMs.unwrap()) },
  'healthCheck.passive.cooldownMs': { what: 'the cool-down', ...bounds(PassiveCheckSchema.shape.cooldownMs.unwrap()) },
};

function bounds(schema: { minValue: number | null; maxValue: number | null }): { min: number; max: number } {
  return { min: schema.minValue ?? 0, max: schema.maxValue ?? Number.MAX_SAFE_INTEGER };
}

/**
 * The schema names these times in milliseconds; the form asks for seconds, so its message does
 * too ("the check interval is from 0.5 to 3600 seconds"), with the bounds read from the schema.
 */
export function inSeconds(issue: FieldIssue): FieldIssue {
  const field = SECOND_FIELDS[issue.path];
  if (!field) return issue;
  return { path: issue.path, message: `${field.what} is from ${field.min / 1000} to ${field.max / 1000} seconds` };
}
