// Running the commands of "Trust on this machine", and finding the programs they run. Commands run
// without a shell, off the event loop, each bounded in time and output (the proxy may be serving in
// the same process). Every program a step names is looked up only in the system's own folders, never
// through PATH: a folder early on a user's PATH may be writable by that user (or by anything running
// as them), and "pkexec <first install on PATH>" would then run their file as root, while a planted
// certutil would be handed the choice of which CA the browsers trust.
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { TrustResult, TrustStep } from '../../../shared/status.js';

export interface CommandOutcome {
  /** The exit code; null when the program could not be started or was stopped. */
  code: number | null;
  /** stdout then stderr, trimmed and cut to OUTPUT_KEEP_CHARS. */
  output: string;
}

/** A step may wait on a person typing a password (pkexec, macOS, Windows' confirmation): 2 minutes. */
export const STEP_TIMEOUT_MS = 120_000;
/** Output a step may print before it is stopped (bytes); certutil and the update tools print little. */
const STEP_MAX_OUTPUT_BYTES = 256 * 1024;
/** Output kept per step for the result shown to the person (characters). */
const OUTPUT_KEEP_CHARS = 4000;

export interface RunLimits {
  /** Per step, in milliseconds; default STEP_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * The folder a plan shown beforehand names for the CA file: mkdtemp's form with its random part as
 * XXXXXX (trust-store.ts). Nothing runs from it: anyone could create a folder of that name.
 */
export const SHOWN_CA_FOLDER = 'gatehouse-trust-XXXXXX';

/**
 * Runs the steps in order, no shell. A step that fails skips the remaining steps of its store (a
 * database that could not be created cannot take the certificate), while other stores go on. A
 * step naming SHOWN_CA_FOLDER (a plan as shown, not as run) is refused.
 */
export async function runTrustSteps(steps: TrustStep[], limits: RunLimits = {}): Promise<TrustResult['steps']> {
  const failedStores = new Set<string>();
  const results: TrustResult['steps'] = [];
  for (const step of steps) {
    let outcome: CommandOutcome;
    if (failedStores.has(step.store)) outcome = { code: null, output: 'Not run: an earlier step for this store failed.' };
    else if (step.command.some((part) => part.includes(SHOWN_CA_FOLDER))) {
      outcome = { code: null, output: 'Not run: this is the plan as shown, whose CA file is made only when the plan runs (runTrustPlan).' };
    } else outcome = await runCommand(step.command, limits.timeoutMs ?? STEP_TIMEOUT_MS);
    const ok = outcome.code === 0;
    if (!ok) failedStores.add(step.store);
    results.push({ store: step.store, command: step.command, ok, output: outcome.output });
  }
  return results;
}

/** One program, no shell, bounded in time and output; never throws. */
export function runCommand(command: string[], timeoutMs: number): Promise<CommandOutcome> {
  const [program, ...args] = command;
  if (!program) return Promise.resolve({ code: null, output: 'Empty command.' });
  return new Promise((resolve) => {
    execFile(program, args, { timeout: timeoutMs, maxBuffer: STEP_MAX_OUTPUT_BYTES, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      let output = `${stdout}${stdout && stderr ? '\n' : ''}${stderr}`.trim();
      let code: number | null = 0;
      if (error) {
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        code = typeof failure.code === 'number' ? failure.code : null;
        let why = '';
        if (failure.code === 'ENOENT') why = `${program} was not found.`;
        else if (failure.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') why = `Stopped: it printed more than ${STEP_MAX_OUTPUT_BYTES / 1024} KiB.`;
        else if (failure.killed || failure.signal) why = `Stopped after ${Math.round(timeoutMs / 1000)} s without finishing.`;
        if (why) {
          code = null;
          output = output ? `${output}\n${why}` : why;
        } else if (!output) {
          output = failure.message;
        }
      }
      resolve({ code, output: output.length > OUTPUT_KEEP_CHARS ? `${output.slice(0, OUTPUT_KEEP_CHARS)}…` : output });
    });
  });
}

/** Where the system's own programs live: writable by root only, unlike folders a user may put on PATH. */
export const SYSTEM_TOOL_FOLDERS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Windows' own programs: %SystemRoot%\System32. */
function windowsSystemFolder(): string {
  return join(process.env.SystemRoot ?? 'C:\\Windows', 'System32');
}

/** A program a trust step runs: looked up in the system folders only, never PATH (see the header). */
export async function findSystemTool(name: string): Promise<string | null> {
  const windows = process.platform === 'win32';
  return firstExecutable(windows ? [windowsSystemFolder()] : SYSTEM_TOOL_FOLDERS, windows ? `${name}.exe` : name);
}

async function firstExecutable(folders: string[], file: string): Promise<string | null> {
  for (const folder of folders) {
    const candidate = join(folder, file);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await fs.access(path, constants.X_OK);
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}
