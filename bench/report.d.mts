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
  /** The 1 MiB case's latency. */
  largeP50Ms: number | null;
  largeP99Ms: number | null;
  /** [min, max] over the usable repetitions, beside each median (null when none). */
  reqPerSecRange: [number, number] | null;
  p99MsRange: [number, number] | null;
  mbPerSecRange: [number, number] | null;
  largeP99MsRange: [number, number] | null;
  tlsReqPerSecRange: [number, number] | null;
  tlsP99MsRange: [number, number] | null;
  h2ReqPerSecRange: [number, number] | null;
  h2P99MsRange: [number, number] | null;
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
  /** The bench section (run.mjs --sections) that measures it. */
  section: string;
  /** "two" for the two-core layout; one core otherwise. */
  layout?: 'one' | 'two';
  features?: string;
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

export type Ratios = Record<'reqPerSec' | 'p50Ms' | 'p99Ms' | 'mbPerSec' | 'largeP99Ms' | 'cpuMsPer1000', number | null>;

export const TARGETS: Target[];
export const HTTPS_RATIO_METRICS: string[];
export const NOT_RUN: string;
export function median(values: readonly (number | null | undefined)[]): number | null;
export function range(values: readonly (number | null | undefined)[]): [number, number] | null;
export function withSpread(value: number | null | undefined, spread: readonly [number, number] | null | undefined, digits?: number): string;
export function skipTargets<T extends { status: string; detail: string }>(targets: T[], why?: string): T[];
export function summarize(runs: { small?: RunResult[]; large?: RunResult[]; tls?: RunResult[]; h2?: RunResult[] }): Summary;
export function ratios(gatehouse: Partial<Summary> | undefined, peer: Partial<Summary> | undefined): Ratios;
export function ratios(gatehouse: Partial<Summary> | undefined, peer: Partial<Summary> | undefined, metrics: readonly string[]): Record<string, number | null>;
export function evaluateTargets(input: {
  /** One-core layout; undefined: not measured (its targets SKIP). */
  results: Record<string, Partial<Summary> & { error?: string }> | undefined;
  /** Two-core layout; undefined: not measured (its targets SKIP). */
  results2?: Record<string, Partial<Summary> & { error?: string }>;
  memory: { error?: string; idleMiB?: number; maxDeviationMiB?: number; afterDeltaMiB?: number } | null | undefined;
  /** Features on against off: on ÷ off req/s. */
  features?: { error?: string; ratio?: number | null; onRps?: number | null; offRps?: number | null };
  /** Sections not run (--sections): their targets SKIP. */
  skipped?: string[];
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
