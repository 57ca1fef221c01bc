// The exec hook: runs the user's script for each TXT record, as lego's "exec" provider does, so
// any of lego's or acme.sh's providers can be used through a small wrapper (docs/dns-providers.md):
//   <command> present <fqdn.> <value>     <command> cleanup <fqdn.> <value>
// with GATEHOUSE_DNS_ACTION, GATEHOUSE_DNS_NAME (www.example.com), GATEHOUSE_DNS_FQDN
// (_acme-challenge.www.example.com.) and GATEHOUSE_DNS_VALUE in its environment. Exit 0 = done;
// anything else fails the order with the script's last line on stderr. No shell is involved.
import { spawn, type ChildProcess } from 'node:child_process';
import type { DnsProvider } from '../../../../../shared/acme.js';
import { bounded, DnsProviderError } from './errors.js';
import type { DnsChallengeProvider, TxtRecord } from './provider.js';

type ExecSettings = Extract<DnsProvider, { kind: 'exec' }>;

/** Most of each output stream kept, bytes: the end is what explains a failure. */
const OUTPUT_KEPT_BYTES = 16 * 1024;
/** After SIGTERM at the timeout, how long the script has before SIGKILL, ms. */
const KILL_GRACE_MS = 2000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

function keepTail(kept: Buffer, chunk: Buffer): Buffer {
  const joined = Buffer.concat([kept, chunk]);
  return joined.length > OUTPUT_KEPT_BYTES ? joined.subarray(joined.length - OUTPUT_KEPT_BYTES) : joined;
}

/**
 * Signals the script's whole process group: a shell wrapper runs curl or sleep as its child, and a
 * child that outlives the shell keeps the output pipes open, so killing only the script would leave
 * the order waiting for as long as the child lives. On Windows there are no process groups: the
 * script alone is signalled.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function run(settings: ExecSettings, action: 'present' | 'cleanup', record: TxtRecord): Promise<Run> {
  return new Promise((resolve, reject) => {
    const fqdn = `${record.fqdn.replace(/\.$/, '')}.`;
    const child = spawn(settings.command, [action, fqdn, record.value], {
      shell: false,
      // Its own process group, so the time limit reaches the script's children too.
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GATEHOUSE_DNS_ACTION: action, GATEHOUSE_DNS_NAME: record.name, GATEHOUSE_DNS_FQDN: fqdn, GATEHOUSE_DNS_VALUE: record.value },
    });
    let stdout: Buffer = Buffer.alloc(0);
    let stderr: Buffer = Buffer.alloc(0);
    let timedOut = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = () => {
      if (settled || !exited) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ ...exited, timedOut, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
    };
    child.stdout.on('data', (chunk: Buffer) => (stdout = keepTail(stdout, chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = keepTail(stderr, chunk)));
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        signalGroup(child, 'SIGKILL');
        // Whatever still holds the pipes (a child that left the group) no longer keeps the order waiting.
        finish();
      }, KILL_GRACE_MS);
    }, settings.timeoutMs);
    child.on('error', (error) => {
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(error);
    });
    // 'exit' reaps the script (no zombie); 'close' waits for the pipes too, so the last output is kept.
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      if (timedOut) finish();
    });
    child.on('close', (code, signal) => {
      exited = { code, signal };
      finish();
    });
  });
}

function lastLine(text: string): string | null {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const line = lines.at(-1);
  return line ? (line.length > 300 ? `${line.slice(0, 300)}…` : line) : null;
}

export function execProvider(settings: ExecSettings): DnsChallengeProvider {
  async function hook(action: 'present' | 'cleanup', record: TxtRecord): Promise<void> {
    let result: Run;
    try {
      result = await run(settings, action, record);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'there is no file at that path' : code === 'EACCES' ? 'it is not executable' : (error as Error).message;
      throw new DnsProviderError(
        'internal',
        `The DNS hook ${settings.command} could not be started: ${why}.`,
        code === 'EACCES' ? `Make it executable: chmod +x ${settings.command}` : 'Enter the full path of an executable script.',
        (error as Error).message,
      );
    }
    if (result.code === 0 && !result.timedOut) return;
    const details = bounded(`${settings.command} ${action} ${record.fqdn}. …: ${result.timedOut ? `stopped after ${settings.timeoutMs} ms` : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`}\n--- stderr\n${result.stderr}\n--- stdout\n${result.stdout}`, 2 * OUTPUT_KEPT_BYTES + 500);
    if (result.timedOut) {
      throw new DnsProviderError('internal', `The DNS hook ${settings.command} did not finish ${action} for ${record.fqdn} within ${Math.round(settings.timeoutMs / 1000)} s and was stopped.`, 'Make the script finish sooner, or raise its time limit.', details);
    }
    const said = lastLine(result.stderr) ?? lastLine(result.stdout);
    throw new DnsProviderError(
      'internal',
      `The DNS hook ${settings.command} failed to ${action === 'present' ? 'create' : 'remove'} the TXT record ${record.fqdn}${said ? `: ${said}` : ` (exit ${result.code ?? result.signal})`}`.replace(/([^.!?])$/, '$1.'),
      'Run the script by hand with the same arguments to see why (the details hold its output).',
      details,
    );
  }

  return { present: (record) => hook('present', record), cleanup: (record) => hook('cleanup', record), lookupName: (record) => record.fqdn };
}
