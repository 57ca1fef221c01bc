// Real FTP clients for stream tests: curl 7.88 and lftp 4.9, run with argument arrays (no shell),
// every run bounded by a timeout after which the child is killed by its PID.
//
// What RECIPES-wave2.md §3 saw, and what these wrappers therefore offer:
// - curl ignores the address in a 227 reply by default (`--ftp-skip-pasv-ip` is on) and dials the
//   control connection's host instead: pass `skipPasvIp: false` to make it dial the 227 address, so a
//   test proves that address is right. EPSV (229) carries no address at all.
// - curl 7.88 active mode + TLS hangs (curl bug #10666, fixed in 8.0): use lftp for active FTPS.
//   curlFtp refuses that combination with an error instead of hanging for the whole timeout.
// - `verbose: true` (curl) / `trace: true` (lftp) puts the FTP conversation on stderr, e.g. curl's
//   "< 227 Entering Passive Mode (127,0,0,1,117,52)." and lftp's "<--- 227 …" lines.
import { spawn } from 'node:child_process';

export interface RunResult {
  /** Exit code, or null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the run outlived its timeout and was killed (SIGKILL by PID). */
  timedOut: boolean;
}

/**
 * Runs `program args` without a shell to its end; kills it by PID after `timeoutMs` (the result then
 * has timedOut: true). stdin gets `input` when given, else nothing (closed).
 */
export function runBounded(program: string, args: readonly string[], options: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: options.cwd });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.on('error', () => {}); // the program may exit before reading its input
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }, options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${program} could not be started: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A one-line description of a run for assertion messages. */
export function describeRun(result: RunResult): string {
  const how = result.timedOut ? 'timed out (killed)' : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
  return `${how}\n--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr ---\n${result.stderr.slice(-4000)}`;
}

export interface CurlFtpOptions {
  /** Passive mode: EPSV first (curl's default, true) or straight to PASV (false). Ignored with `active`. */
  epsv?: boolean;
  /** Active mode: the address curl puts in EPRT/PORT (`--ftp-port`), e.g. "127.0.0.1". */
  active?: string;
  /** With `active`: EPRT first (default, true) or plain PORT (false, `--disable-eprt`). */
  eprt?: boolean;
  /** 'reqd' = explicit FTPS (AUTH TLS, then PROT P): `--ssl-reqd`. Default 'none'. */
  ssl?: 'none' | 'reqd';
  /** PEM file of the CA/self-signed certificate to trust for FTPS. */
  cacert?: string;
  /** Skip certificate checks (`-k`); a test should prefer `cacert`. */
  insecure?: boolean;
  /** Upload this file to the URL (`-T`). */
  upload?: string;
  /** Write the download here (`-o`); without it the body is in stdout. */
  output?: string;
  /** "name:password" (`-u`). Default: curl's anonymous login. */
  user?: string;
  /**
   * false = dial the address of the 227 reply (`--no-ftp-skip-pasv-ip`). Default: curl's own (true:
   * dial the control connection's host and ignore the 227 address).
   */
  skipPasvIp?: boolean;
  /** `-v`: the FTP conversation ("> PASV", "< 227 …") on stderr. */
  verbose?: boolean;
  /** Create missing directories on upload (`--ftp-create-dirs`). */
  createDirs?: boolean;
  /** More curl arguments, placed before the URL. */
  extraArgs?: string[];
  /** Whole-run bound, default 30 s: curl's --max-time, and the child is killed shortly after. */
  timeoutMs?: number;
}

/** Runs curl against an ftp:// URL. code 0 = success; 67 = login denied; 28 = timed out (curl's own). */
export async function curlFtp(url: string, options: CurlFtpOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (options.active !== undefined && options.ssl === 'reqd') {
    throw new Error('curl 7.88 hangs in active mode with TLS (curl bug #10666): use lftpRun with passive: false for active FTPS');
  }
  const args = ['-sS', '--max-time', String(Math.max(1, Math.floor(timeoutMs / 1000))), '--connect-timeout', '10'];
  if (options.active !== undefined) {
    args.push('--ftp-port', options.active);
    if (options.eprt === false) args.push('--disable-eprt');
  } else if (options.epsv === false) args.push('--disable-epsv');
  if (options.ssl === 'reqd') args.push('--ssl-reqd');
  if (options.cacert) args.push('--cacert', options.cacert);
  if (options.insecure) args.push('-k');
  if (options.upload) args.push('-T', options.upload);
  if (options.output) args.push('-o', options.output);
  if (options.user !== undefined) args.push('-u', options.user);
  if (options.skipPasvIp === false) args.push('--no-ftp-skip-pasv-ip');
  if (options.skipPasvIp === true) args.push('--ftp-skip-pasv-ip');
  if (options.verbose) args.push('-v');
  if (options.createDirs) args.push('--ftp-create-dirs');
  args.push(...(options.extraArgs ?? []), url);
  return runBounded('curl', args, { timeoutMs: timeoutMs + 3_000 });
}

export interface LftpOptions {
  /** { name, password }; default anonymous with an empty password. */
  user?: { name: string; password: string };
  /** true = passive (PASV, or EPSV with `epsv`), false = active (PORT). */
  passive: boolean;
  /** Passive: try EPSV first (ftp:prefer-epsv). Default false: PASV, whose 227 lftp dials as given. */
  epsv?: boolean;
  /** 'off' = plain FTP only; 'force' = explicit FTPS (AUTH TLS) or fail. */
  ssl: 'off' | 'force';
  /** With ssl 'force': PROT P on data connections too (default true). */
  protectData?: boolean;
  /** PEM file to trust for FTPS (ssl:ca-file); the certificate is checked against the URL's host. */
  cafile?: string;
  /** Active mode: the address lftp puts in PORT (ftp:port-ipv4). Default: the control connection's local address. */
  portAddress?: string;
  /** lftp -d: the FTP conversation ("---> PASV", "<--- 227 …") on stderr. */
  trace?: boolean;
  /** Whole-run bound (default 30); lftp's own net:timeout is a little shorter. The child is killed after it. */
  timeoutSeconds?: number;
}

/**
 * Runs lftp commands (lftp's own syntax, e.g. "get readme.txt -o /tmp/x", "put /tmp/f -o pub/f",
 * "cls -1 pub") against an ftp:// URL, stopping at the first failing command (cmd:fail-exit).
 * code 0 = every command succeeded.
 */
export function lftpRun(url: string, commands: readonly string[], options: LftpOptions): Promise<RunResult> {
  const timeoutSeconds = options.timeoutSeconds ?? 30;
  const settings = [
    'set cmd:fail-exit yes',
    'set cmd:interactive no',
    'set net:max-retries 1',
    'set net:reconnect-interval-base 1',
    `set net:timeout ${Math.max(2, timeoutSeconds - 2)}`,
    `set ftp:passive-mode ${options.passive ? 'on' : 'off'}`,
    `set ftp:prefer-epsv ${options.epsv ? 'yes' : 'no'}`,
    'set ftp:use-feat yes',
  ];
  if (options.ssl === 'off') settings.push('set ftp:ssl-allow no');
  else {
    const protect = options.protectData ?? true;
    settings.push('set ftp:ssl-allow yes', 'set ftp:ssl-force yes', `set ftp:ssl-protect-data ${protect ? 'yes' : 'no'}`, `set ftp:ssl-protect-list ${protect ? 'yes' : 'no'}`, 'set ssl:verify-certificate yes');
  }
  if (options.cafile) settings.push(`set ssl:ca-file "${options.cafile}"`);
  if (options.portAddress) settings.push(`set ftp:port-ipv4 ${options.portAddress}`);
  const login = options.user ? `${options.user.name},${options.user.password}` : 'anonymous,';
  const args = [...(options.trace ? ['-d'] : []), '-u', login, '-e', [...settings, ...commands, 'bye'].join('; '), url];
  // HOME elsewhere: no ~/.lftp/rc or bookmarks of the machine's user change the run.
  return runBounded('lftp', args, { timeoutMs: timeoutSeconds * 1000 + 2_000, env: { ...process.env, HOME: '/nonexistent', LFTP_HOME: '/nonexistent' } });
}
