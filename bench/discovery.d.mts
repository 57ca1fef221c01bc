// Types of discovery.mjs for the TypeScript tests (the bench itself is plain JS: it runs without a build).

export interface PeerSeries {
  /** ms per repetition, Gatehouse's event stream. */
  gatehouse: number[];
  /** ms per repetition, python3-zeroconf's ServiceBrowser. */
  zeroconf: number[];
}

export interface ProbeSeries {
  address: string;
  portsTried: number;
  samplesMs: number[];
  medianMs: number;
  maxMs: number;
  open: string[];
}

export interface DiscoveryResult {
  reps: number;
  appear: PeerSeries;
  disappear: PeerSeries;
  missed: string[];
  probe: ProbeSeries[];
  error?: string;
  failed?: boolean;
}

export interface TargetLine {
  id: string;
  text: string;
  status: 'PASS' | 'MISS';
  detail: string;
}

export const DISCOVERY_TARGETS: { id: string; text: string; limitMs: number }[];
export function discoveryTargets(result: DiscoveryResult | { error: string; failed: true } | undefined): TargetLine[];
export function describeDiscovery(result: DiscoveryResult | { error: string; failed: true } | undefined): string;
export function measureDiscovery(ctx: { processes: unknown; tmp?: string }, options?: { quick?: boolean }): Promise<DiscoveryResult | { error: string; failed: true }>;
