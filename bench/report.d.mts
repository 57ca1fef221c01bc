// Types of report.mjs for the TypeScript tests.

export interface RunResult {
  reqPerSec: number;
  latencyMs: { p50: number | null; p99: number | null };
  mbPerSec: number | null;
  cpuMsPer1000: number | null;
  /** Why the run is not a measurement, or null. */
  invalid: string | null;
}

export interface Summary {
  reqPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  cpuMsPer1000: number | null;
  mbPerSec: number | null;
  largeCpuMsPer1000: number | null;
  /** HTTPS over HTTP/1.1 (wrk). */
  tlsReqPerSec: number | null;
  tlsP50Ms: number | null;
  tlsP99Ms: number | null;
  tlsCpuMsPer1000: number | null;
  /** HTTP/2 (h2load). */
  h2ReqPerSec: number | null;
  h2P50Ms: number | null;
  h2P99Ms: number | null;
  h2CpuMsPer1000: number | null;
  repetitions: { small: number; large: number; tls: number; h2: number };
  problems: string[];
}

export interface Target {
  id: string;
  text: string;
  peer?: string;
  metric?: string;
  memory?: string;
  issuance?: string;
  atLeast?: number;
  atMost?: number;
  limit?: number;
  unit?: string;
  prefix?: string;
}

export interface TargetResult {
  id: string;
  text: string;
  status: 'PASS' | 'MISS' | 'SKIP';
  detail: string;
}

export type Ratios = Record<'reqPerSec' | 'p50Ms' | 'p99Ms' | 'mbPerSec' | 'cpuMsPer1000', number | null>;

export const TARGETS: Target[];
export const HTTPS_RATIO_METRICS: string[];
export function median(values: readonly (number | null | undefined)[]): number | null;
export function summarize(runs: { small?: RunResult[]; large?: RunResult[]; tls?: RunResult[]; h2?: RunResult[] }): Summary;
export function ratios(gatehouse: Partial<Summary> | undefined, peer: Partial<Summary> | undefined): Ratios;
export function ratios(gatehouse: Partial<Summary> | undefined, peer: Partial<Summary> | undefined, metrics: readonly string[]): Record<string, number | null>;
export function evaluateTargets(input: {
  results: Record<string, Partial<Summary> & { error?: string }>;
  memory: { error?: string; idleMiB?: number; maxDeviationMiB?: number } | null | undefined;
  /** The leaf issuance scenario; when undefined its target is left out. */
  issuance?: { error?: string; medianMs?: number };
  absent?: Record<string, string>;
  httpsAbsent?: Record<string, string>;
}): TargetResult[];
export function fmt(value: number | null | undefined, digits?: number): string;
export function formatTable(rows: (Partial<Summary> & { label: string; note?: string })[]): string;
export function formatRatios(results: Record<string, Partial<Summary>>, peers: { id: string; label: string }[]): string;
export function formatHttpsTable(rows: (Partial<Summary> & { label: string; note?: string })[]): string;
export function formatHttpsRatios(results: Record<string, Partial<Summary>>, peers: { id: string; label: string }[]): string;
