// Types of wrk.mjs for the TypeScript tests (the bench itself is plain JS: it runs without a build).
import type { ChildProcess } from 'node:child_process';

export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  /** Non-2xx/3xx responses. */
  status: number;
}

export interface WrkRun {
  requests: number;
  bytes: number;
  durationS: number;
  reqPerSec: number;
  /** 10^6 bytes per second. */
  mbPerSec: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  errors: WrkErrors;
  /** True when read from wrk-report.lua's exact BENCH_JSON line, false when from wrk's rounded text. */
  exact: boolean;
}

export const WRK_REPORT_SCRIPT: string;
export const MAX_ERROR_SHARE: number;
export function wrkArgs(options: { url: string; connections: number; durationS: number; host?: string; script?: string }): string[];
export function parseWrkOutput(text: string): WrkRun;
export function errorCount(run: Pick<WrkRun, 'errors'>): number;
export function invalidReason(run: Pick<WrkRun, 'requests' | 'errors'>): string | null;
export function runWrk(
  processes: { start(name: string, command: string, args: string[], options: object): ChildProcess },
  wrkPath: string,
  cpu: number | null,
  options: { url: string; connections: number; durationS: number; host?: string },
): Promise<WrkRun & { raw: string }>;
export function runLoadTool<T>(
  processes: { start(name: string, command: string, args: string[], options: object): ChildProcess },
  name: string,
  path: string,
  cpu: number | null,
  args: string[],
  parse: (output: string) => T,
): Promise<T>;
