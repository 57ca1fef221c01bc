// Runs the real built `gatehouse serve` (bin/gatehouse.js → dist/node) as a child process, the way a
// user does, and waits for DATA_DIR/serve.json to learn its ports. Every process started here is
// stopped by its PID: by stop(), or when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = join(repoRoot, 'bin', 'gatehouse.js');
const builtCli = join(repoRoot, 'dist', 'node', 'src-main', 'headless', 'cli.js');

/** What serve writes to DATA_DIR/serve.json (see src-main/headless/serve.ts). */
export interface ServeInfo {
  pid: number;
  proxy: { address: string; port: number } | null;
  admin: { address: string; port: number };
  adminUrl: string;
}

export interface ServeOptions {
  /** Default: a new temporary directory, removed by stop(). */
  dataDir?: string;
  /** --http-port; default 0 (a free port). null leaves the flag out. */
  httpPort?: number | null;
  /** --https-port; default 0 (a free port). null leaves the flag out. */
  httpsPort?: number | null;
  /** --admin-port; default 0. null leaves the flag out. */
  adminPort?: number | null;
  /** More command-line arguments after `serve`. */
  args?: string[];
  /** A command to run node under, e.g. ['setpriv', '--reuid=nobody', …]. */
  prefix?: string[];
  /** How long to wait for serve.json (or for the exit, in runServeToExit). Default: 20 s. */
  timeoutMs?: number;
  /** More environment for the process (e.g. GATEHOUSE_DNS_SERVER). Default: none. */
  env?: Record<string, string>;
}

export interface ServeProcess {
  readonly pid: number;
  readonly dataDir: string;
  /** Base URL of the admin server, e.g. http://127.0.0.1:PORT/. */
  readonly adminUrl: string;
  readonly token: string;
  /** The proxy's HTTP port, or null when the proxy is not running. */
  readonly proxyPort: number | null;
  readonly info: ServeInfo;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** fetch() against the admin server with the bearer token; `path` like "/api/routes". */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** SIGTERM by PID, waits for the exit (SIGKILL after 15 s); removes a data dir the helper made. */
  stop(options?: { keepDataDir?: boolean }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

function assertBuilt(): void {
  if (!existsSync(builtCli)) {
    throw new Error(`The headless tests run the built CLI, and ${builtCli} is missing: run "npm run build" (npm test builds first).`);
  }
}

export function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gatehouse-test-'));
}

function launch(dataDir: string, options: ServeOptions) {
  assertBuilt();
  const args = ['serve', '--data-dir', dataDir];
  if (options.httpPort !== null) args.push('--http-port', String(options.httpPort ?? 0));
  if (options.httpsPort !== null) args.push('--https-port', String(options.httpsPort ?? 0));
  if (options.adminPort !== null) args.push('--admin-port', String(options.adminPort ?? 0));
  args.push(...(options.args ?? []));
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath, binPath, ...args];
  const child = spawn(command!, prefixArgs, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '', ...options.env } });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `gatehouse serve` and resolves once it has written serve.json. */
export async function startServe(options: ServeOptions = {}): Promise<ServeProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await makeDataDir());
  const proc = launch(dataDir, options);
  const pid = proc.child.pid!;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void proc.exited.then((result) => (exit = result));

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let info: ServeInfo | null = null;
  while (!info) {
    if (exit) throw new Error(`gatehouse serve exited (${JSON.stringify(exit)}) before it was ready.\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      throw new Error(`gatehouse serve did not write serve.json in time.\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
    }
    try {
      const candidate = JSON.parse(await readFile(join(dataDir, 'serve.json'), 'utf8')) as ServeInfo;
      // A serve.json left by an earlier run in the same directory names another PID.
      if (candidate.pid === pid) info = candidate;
    } catch {
      // Not written yet.
    }
    if (!info) await sleep(50);
  }
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const adminUrl = info.adminUrl;
  return {
    pid,
    dataDir,
    adminUrl,
    token,
    proxyPort: info.proxy?.port ?? null,
    info,
    stdout: proc.stdout,
    stderr: proc.stderr,
    api: (path, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(new URL(path, adminUrl), { ...init, headers });
    },
    async stop(stopOptions = {}) {
      if (!exit) process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), 15_000);
      const result = await proc.exited;
      clearTimeout(timer);
      if (ownDir && !stopOptions.keepDataDir) await rm(dataDir, { recursive: true, force: true });
      return result;
    },
  };
}

/** Runs `gatehouse serve` expecting it to exit on its own (a port it cannot bind, a bad flag). */
export async function runServeToExit(
  options: ServeOptions & { dataDir: string },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const proc = launch(options.dataDir, options);
  const pid = proc.child.pid!;
  const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), options.timeoutMs ?? 20_000);
  const result = await proc.exited;
  clearTimeout(timer);
  return { ...result, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** Runs bin/gatehouse.js with exactly `args` (for --help, --version and bad flags). */
export async function runCli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt();
  const child = spawn(process.execPath, [binPath, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  running.delete(child);
  return { code, stdout, stderr };
}
