// Types of multicore.mjs for the TypeScript tests (the bench itself is plain JS: it runs without a build).

export interface MulticoreRun {
  rep: number;
  reqPerSec: number;
  requests: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  cpuMsPer1000: number | null;
  serverCores: number;
  perProcessCores: number[];
  backendCores: number;
  wrkCores: number;
  otherCores: number | null;
  invalid: string | null;
}

export interface MulticoreVariantSummary {
  reqPerSec: number | null;
  p99Ms: number | null;
  cpuMsPer1000: number | null;
  serverCores: number | null;
  perProcessCores: number[];
  backendCores: number | null;
  wrkCores: number | null;
  otherCores: number | null;
  /** Median of this variant's req/s ÷ its base's, paired per repetition; null for the base itself when alone. */
  ratio: number | null;
  ratioSpread: [number, number] | null;
  runs: number;
}

export interface IpcResult {
  roundTripUs: { p50: number; p99: number; count: number };
  pipelined: { perSecond: number; cpuUsPerMessage: number; window: number; messages: number };
  batched: { batch: number; entriesPerSecond: number; cpuUsPerEntry: number; entries: number; entryBytes: number };
  batchedLines: { batch: number; entriesPerSecond: number; cpuUsPerEntry: number };
}

export interface MulticoreResult {
  reps: number;
  durationS: number;
  connections: number;
  cpuCount: number;
  layouts: { id: string; label: string }[];
  /** layout id → variant id → runs */
  runs: Record<string, Record<string, MulticoreRun[]>>;
  ipc: IpcResult | null;
  cpuPressure: { avg10: number; avg60: number } | null;
  error: string | null;
  started: Record<string, { rssMiB: number }>;
  summary?: Record<string, Record<string, MulticoreVariantSummary>>;
  failed?: boolean;
}

export interface Target {
  id: string;
  text: string;
  status: 'PASS' | 'MISS';
  detail: string;
}

export const VARIANTS: { id: string; label: string; kind: 'gatehouse' | 'bare'; workers: number; sched?: 'rr' | 'none'; ask?: string; base: string; twoCoreOnly?: boolean; probe?: boolean }[];
export const MULTICORE_TARGET: { id: string; text: string; limit: number };
export function summarizeRuns(result: MulticoreResult): Record<string, Record<string, MulticoreVariantSummary>>;
export function measureIpc(options?: { roundTrips?: number; messages?: number; window?: number; entries?: number; batch?: number }): Promise<IpcResult>;
export function measureMulticore(ctx: object, options?: { quick?: boolean; reps?: number; durationS?: number; warmupS?: number; only?: string[]; progress?: boolean }): Promise<MulticoreResult>;
export function describeMulticore(result: MulticoreResult): string;
export function multicoreTargets(result: MulticoreResult): Target[];
