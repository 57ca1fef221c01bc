// Types of features.mjs for the TypeScript tests.
export const FEATURES_HOST: string;
export function missingFeature(route: unknown, listId: string, ports: number[]): string | null;
interface Run {
  reqPerSec: number;
  latencyMs: { p99: number | null };
}
export function summarizeFeatures(input: { off: Run[]; on: Run[]; error?: string | null }): {
  offRps: number | null;
  onRps: number | null;
  ratio: number | null;
  p99Ratio: number | null;
  off: { rps: number | null; rpsRange: [number, number] | null; p99Ms: number | null; p99MsRange: [number, number] | null };
  on: { rps: number | null; rpsRange: [number, number] | null; p99Ms: number | null; p99MsRange: [number, number] | null };
  error?: string;
};
export function describeFeatures(features: unknown): string;
