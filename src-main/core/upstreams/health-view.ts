// The two sides of upstream health as the request path sees them: what it reports (passive
// health: every answer and every failure), and what it asks before picking an upstream. State is
// per upstream address (`host:port`), shared by every route that uses it; the route id says whose
// settings (passive.serverErrors, passive.cooldownMs) judge the report. health.ts implements both.

/** What the request path tells health. Called per request: it must stay cheap. */
export interface PassiveHealth {
  /** `address` answered `status` (the final status; 101 for an upgrade) to a request of route `routeId`. */
  answered(routeId: string, address: string, status: number): void;
  /** Reaching `address` for route `routeId` failed with `cause` (no answer, or the answer was cut). */
  failed(routeId: string, address: string, cause: unknown): void;
}

/** What picking an upstream asks. */
export interface HealthView {
  /** Neither marked down by its checks nor in a passive cool-down. Unknown counts as available. */
  isAvailable(address: string): boolean;
  /** When it last failed (Date.now() ms), 0 if never: with none available, the least recent is tried. */
  lastFailedAt(address: string): number;
}

export type UpstreamHealthLink = PassiveHealth & HealthView;

/** For an engine without a health checker (tests, benchmarks): everything is available. */
export const noHealth: UpstreamHealthLink = {
  answered() {},
  failed() {},
  isAvailable: () => true,
  lastFailedAt: () => 0,
};
