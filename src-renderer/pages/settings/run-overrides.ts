// What the proxy actually uses this run when `gatehouse serve` was started with --http-port,
// --https-port or --bind: those flags win over the saved settings until the field is saved again,
// and a person reading the Settings page or the first-run guide must not take the saved value for
// the one in use. Pure, so the wording is unit-tested.
import type { GeneralSettings } from '../../../shared/model.js';
import type { ProxyStatus, RunOverrides } from '../../../shared/status.js';

export type OverridableField = keyof RunOverrides;

const FLAGS: Record<OverridableField, string> = { httpPort: '--http-port', httpsPort: '--https-port', bindAddress: '--bind' };

/** The value in use for this run: the running listener's, else the flag's; null when no flag sets it. */
export function inUseThisRun(field: OverridableField, status: ProxyStatus | null): string | null {
  const flag = status?.overrides?.[field];
  if (flag === undefined || !status) return null;
  const listener = field === 'httpsPort' ? status.https : status.http;
  if (status.state === 'running' && listener) return field === 'bindAddress' ? listener.address : String(listener.port);
  return String(flag);
}

/**
 * "The proxy uses port 8080 for this run because serve was started with --http-port 8080; the
 * saved value 80 applies next time." Null when no flag sets this field.
 */
export function overrideNote(field: OverridableField, settings: GeneralSettings, status: ProxyStatus | null): string | null {
  const flag = status?.overrides?.[field];
  const inUse = inUseThisRun(field, status);
  if (flag === undefined || inUse === null) return null;
  const saved = String(settings.proxy[field]);
  const what = field === 'bindAddress' ? `address ${inUse}` : `port ${inUse}`;
  // --http-port 0 asks for any free port: say which one it got.
  const picked = field !== 'bindAddress' && flag === 0 && inUse !== '0' ? ' (a free port, as 0 asks)' : '';
  const later = saved === inUse ? 'which is also the saved value' : `the saved value ${saved} applies next time`;
  return `The proxy uses ${what}${picked} for this run because serve was started with ${FLAGS[field]} ${flag}; ${later}. Saving this field here replaces the flag for this run too.`;
}

/** Every flag in effect, as typed: "--http-port 8080 --bind 127.0.0.1"; empty when none. */
export function flagsText(status: ProxyStatus | null): string {
  const overrides = status?.overrides ?? {};
  return (Object.keys(FLAGS) as OverridableField[])
    .filter((field) => overrides[field] !== undefined)
    .map((field) => `${FLAGS[field]} ${overrides[field]}`)
    .join(' ');
}
