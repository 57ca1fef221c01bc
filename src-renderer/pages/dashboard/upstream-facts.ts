// What the dashboard says about each server of a route with several: its state in one word, since
// when, its last check in plain words, and what draining it would do. Pure, so the words are
// unit-tested; shared by the table (wide) and the cards (phones).
import type { Route } from '../../../shared/model.js';
import type { CheckResult, RouteHealth, UpstreamHealth } from '../../../shared/status.js';
import type { UpstreamTarget } from '../../../shared/upstreams.js';
import { duration, timeOfDay, upstreamLabel } from '../../format.js';

export type UpstreamShown = 'up' | 'down' | 'unknown' | 'cooling' | 'drained' | 'backup';

export const upstreamStateText: Record<UpstreamShown, string> = {
  up: 'Up',
  down: 'Down',
  unknown: 'Unknown',
  cooling: 'Cooling down',
  drained: 'Drained',
  backup: 'Backup',
};

/** One server as the dashboard shows it: the route's setting with what health says about it. */
export interface UpstreamView {
  target: UpstreamTarget;
  /** `host:port`, or the https URL (how people type it). */
  label: string;
  health: UpstreamHealth | null;
  shown: UpstreamShown;
}

/**
 * The one word for a server. Drained first (the person chose it), then Down and Cooling down (why
 * it gets nothing), then Backup for a healthy backup standing by (one serving the route is Up).
 */
export function upstreamShown(target: UpstreamTarget, health: UpstreamHealth | null, servingNow: string | null, now: Date): UpstreamShown {
  if (target.drained) return 'drained';
  if (!health) return 'unknown';
  if (health.state === 'down') return 'down';
  if (health.coolingUntil && Date.parse(health.coolingUntil) > now.getTime()) return 'cooling';
  if (target.backup && health.address !== servingNow) return 'backup';
  return health.state;
}

/** Each of the route's servers in its order, with its health when Gatehouse has reported it. */
export function upstreamViews(route: Route, health: RouteHealth | undefined, now: Date): UpstreamView[] {
  const byUrl = new Map((health?.upstreams ?? []).map((entry) => [entry.url, entry]));
  return route.upstreams.map((target) => {
    const entry = byUrl.get(target.url) ?? null;
    return { target, label: upstreamLabel(target.url), health: entry, shown: upstreamShown(target, entry, health?.upstream ?? null, now) };
  });
}

/** "since 14:03:27" today, "since 21 Nov, 14:03" before; null while unknown. */
export function sinceText(iso: string | null, now: Date): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  if (date.toDateString() === now.toDateString()) return `since ${timeOfDay(iso)}`;
  return `since ${date.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false })}`;
}

/**
 * "GET /identity: 200 in 12 ms", or why it failed: "GET /: answered 503, expected 200–499 (12 ms)".
 * `brief` when the reason is already shown above it: then only what it answered.
 */
export function lastCheckText(check: CheckResult | null, brief = false): string {
  if (!check) return 'Not checked yet';
  // A number and its unit never part at the end of a line.
  const took = duration(check.latencyMs).replace(' ', '\u00a0');
  if (check.passed) return `${check.check}: ${check.status ?? 'connected'} in ${took}`;
  if (brief) return `${check.check}: ${check.status ?? 'no answer'} in ${took}`;
  return `${check.check}: ${check.error ?? 'failed'} (${took})`;
}

/** "123 served · 2 in flight". */
export function trafficText(health: UpstreamHealth | null): string {
  if (!health) return '';
  return `${health.served} served · ${health.inFlight} in flight`;
}

/** Why it gets no requests, when there is a reason beyond "drained": the down or cool-down cause. */
export function upstreamReason(view: UpstreamView): string | null {
  if (view.shown === 'drained') return null;
  return view.health?.problem?.message ?? (view.health?.lastCheck && !view.health.lastCheck.passed ? view.health.lastCheck.error : null);
}

/** What "Drain" asks before it drains: requests under way finish, and it says so with their number. */
export function drainQuestion(view: UpstreamView, views: readonly UpstreamView[]): { title: string; consequence: string; lastOne: string | null } {
  const inFlight = view.health?.inFlight ?? 0;
  const underWay =
    inFlight === 0
      ? 'No request is under way to it now.'
      : inFlight === 1
        ? '1 request is under way to it now (from any route); it finishes first.'
        : `${inFlight} requests are under way to it now (from any route); they finish first.`;
  const othersTakingRequests = views.some((other) => other !== view && !other.target.drained);
  return {
    title: `Drain ${view.label}?`,
    consequence: `It takes no new requests until you put it back. ${underWay}`,
    lastOne: othersTakingRequests ? null : 'It is the only server of this route still taking requests: the route answers "unavailable" until one is put back.',
  };
}
