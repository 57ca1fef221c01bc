// The route doctor's running order: every step starts at once (DNS, the port, the upstream and the
// access rules do not wait for each other), a step that needs an earlier one (the certificate needs
// the HTTPS port) waits for it and is skipped, with why, when that one failed. The whole report is
// bounded by one deadline: a step still running then becomes a failure that says it did not finish,
// so a DNS server that never answers cannot hold the button for longer than DOCTOR_DEADLINE_MS.
// The steps themselves live in doctor-dns.ts, doctor-port.ts, doctor-certificate.ts,
// doctor-upstream.ts and doctor-access.ts; this file only orders, bounds and sums them up.
import { DOCTOR_STEPS, type DoctorCheck, type DoctorReport, type DoctorStep } from '../../../shared/insight.js';

/** The whole doctor ends within this, ms (the target is 5 s; each check has its own shorter timeout). Default: 4500. */
export const DOCTOR_DEADLINE_MS = 4500;

/** One step as the order runs it. */
export interface DoctorStepRun {
  step: DoctorStep;
  /** Steps whose checks this one needs first; default none (it starts at once). */
  after?: readonly DoctorStep[];
  /** Why this step cannot run, given the checks of the steps in `after`; null to run it. */
  blockedBy?: (earlier: readonly DoctorCheck[]) => string | null;
  /** What the skipped (or late) placeholder check is called ("The certificate served for the name"). */
  title: string;
  run: () => Promise<DoctorCheck[]>;
}

export interface DoctorRunOptions {
  routeId: string;
  visitor: string;
  /** Default DOCTOR_DEADLINE_MS. */
  deadlineMs?: number;
  now?: () => number;
}

/** A check that did not run, with why. */
export function skippedCheck(id: string, step: DoctorStep, title: string, says: string): DoctorCheck {
  return { id, step, title, state: 'skipped', says, fix: null, durationMs: 0 };
}

function lateCheck(run: DoctorStepRun, seconds: string, durationMs: number): DoctorCheck {
  return {
    id: `${run.step}:late`,
    step: run.step,
    title: run.title,
    state: 'fail',
    says: `This check did not finish within ${seconds} s, so its result is unknown.`,
    fix: 'Run the doctor again; if it keeps happening, something on the way (a DNS server, a firewall that drops packets) does not answer.',
    durationMs,
  };
}

function crashedCheck(run: DoctorStepRun, error: unknown, durationMs: number): DoctorCheck {
  const detail = error instanceof Error ? error.message : String(error);
  return { id: `${run.step}:error`, step: run.step, title: run.title, state: 'fail', says: `This check could not run: ${detail}`, fix: null, durationMs };
}

/** ok when nothing failed or warned (skipped checks count as fine), warnings, or broken. */
export function verdictOf(checks: readonly DoctorCheck[]): DoctorReport['verdict'] {
  if (checks.some((check) => check.state === 'fail')) return 'broken';
  if (checks.some((check) => check.state === 'warn')) return 'warnings';
  return 'ok';
}

/** One sentence: the first failure's words, else the first warning's, else that all is well. */
export function summaryOf(checks: readonly DoctorCheck[]): string {
  const failed = checks.find((check) => check.state === 'fail');
  if (failed) return failed.says;
  const warned = checks.filter((check) => check.state === 'warn');
  if (warned.length > 0) return `It works, with ${warned.length === 1 ? 'one warning' : `${warned.length} warnings`}: ${warned[0]!.says}`;
  return 'Every check passed: the route works from the name to the app.';
}

/** Runs the steps (any order given; the report follows DOCTOR_STEPS), bounded by the deadline. */
export async function runDoctorSteps(runs: readonly DoctorStepRun[], options: DoctorRunOptions): Promise<DoctorReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const deadlineMs = options.deadlineMs ?? DOCTOR_DEADLINE_MS;
  const seconds = (deadlineMs / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
  });

  const results = new Map<DoctorStep, Promise<DoctorCheck[]>>();
  const start = (run: DoctorStepRun): Promise<DoctorCheck[]> => {
    const existing = results.get(run.step);
    if (existing) return existing;
    const promise = (async (): Promise<DoctorCheck[]> => {
      const earlier: DoctorCheck[] = [];
      for (const step of run.after ?? []) {
        const before = runs.find((candidate) => candidate.step === step);
        if (before) earlier.push(...(await start(before)));
      }
      const reason = run.blockedBy?.(earlier) ?? null;
      if (reason !== null) return [skippedCheck(`${run.step}:skipped`, run.step, run.title, reason)];
      const stepStarted = now();
      try {
        const outcome = await Promise.race([run.run(), deadline]);
        return outcome === 'late' ? [lateCheck(run, seconds, now() - stepStarted)] : outcome;
      } catch (error) {
        return [crashedCheck(run, error, now() - stepStarted)];
      }
    })();
    results.set(run.step, promise);
    return promise;
  };
  try {
    const done = await Promise.all(runs.map((run) => start(run).then((checks) => ({ run, checks }))));
    const order = (step: DoctorStep) => DOCTOR_STEPS.indexOf(step);
    const checks = done.sort((a, b) => order(a.run.step) - order(b.run.step)).flatMap((entry) => entry.checks);
    return {
      routeId: options.routeId,
      time: new Date(started).toISOString(),
      durationMs: now() - started,
      visitor: options.visitor,
      checks,
      verdict: verdictOf(checks),
      summary: summaryOf(checks),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** `promise`, or `late()` once `ms` have passed (the promise is left to settle on its own). */
export async function within<T>(promise: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** "1.5" for 1500 ms: timeouts as sentences say them. */
export function secondsText(ms: number): string {
  return (ms / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
}

/** Joined for a sentence: "a", "a and b", "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
