// Types of h2load.mjs for the TypeScript tests (the bench itself is plain JS: it runs without a build).
import type { ChildProcess } from 'node:child_process';

export interface H2loadErrors {
  /** Requests h2load counts as failed (non-2xx/3xx answers included). */
  failed: number;
  errored: number;
  timeout: number;
  /** 4xx + 5xx answers. */
  status: number;
}

export interface H2loadRun {
  /** Requests done. */
  requests: number;
  succeeded: number;
  durationS: number;
  reqPerSec: number;
  bytes: number | null;
  /** The ALPN protocol negotiated ("h2", "http/1.1"), or null without a TLS session. */
  protocol: string | null;
  meanMs: number | null;
  errors: H2loadErrors;
}

export interface Latency {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface H2loadOptions {
  url: string;
  connectTo: string;
  connections: number;
  streams: number;
  durationS: number;
  logFile?: string;
}

export function h2loadArgs(options: H2loadOptions): string[];
export function parseH2loadOutput(text: string): H2loadRun;
export function latencyFromLog(text: string): Latency;
export function h2InvalidReason(run: Pick<H2loadRun, 'requests' | 'protocol' | 'errors'>): string | null;
export function runH2load(
  processes: { start(name: string, command: string, args: string[], options: object): ChildProcess },
  h2loadPath: string,
  cpu: number | null,
  options: H2loadOptions,
): Promise<H2loadRun & { latencyMs: Latency; raw: string }>;
