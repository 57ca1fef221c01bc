// Types of soak.mjs for the TypeScript tests.
export const SOAK_LIMITS: { rssMiB: number; heapMiB: number };
export function soakWindows(totalS: number): { baseline: [number, number]; end: [number, number] };
interface Growth {
  before: number;
  after: number;
  growth: number;
}
export function soakVerdict(
  samples: { t: number; rssMiB: number; heapMiB: number | null }[],
  totalS: number,
  limits?: { rssMiB: number; heapMiB: number },
): { pass: boolean; reason: string | null; rss?: Growth | null; heap?: Growth | null; baseline: [number, number]; end: [number, number] };
