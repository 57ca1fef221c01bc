// Every process the bench starts, and what it reads about them from /proc. Each child is tracked
// by PID from spawn to exit, so a run that fails or is interrupted still stops exactly what it
// started: the children and their own descendants (nginx workers), never anything found by name.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The program's absolute path, or null when it is not installed. */
export function which(name) {
  const result = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** Kernel clock ticks per second, the unit of utime/stime in /proc/PID/stat. */
const CLOCK_TICKS = (() => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number.parseInt(result.stdout ?? '', 10);
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the server to take). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The children of every process, from /proc: pid → [child pids]. */
function childrenByParent() {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  return children;
}

/** The process and every live descendant. */
export function processTree(pid) {
  const children = childrenByParent();
  const tree = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift();
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Fields of /proc/PID/stat the bench uses, or null when the process is gone. */
function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) is in parentheses and may hold spaces; every field after it is plain.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n) => Number(rest[n - 3]);
  return { pid, ppid: field(4), utime: field(14), stime: field(15), cutime: field(16), cstime: field(17) };
}

/**
 * CPU seconds (user + system) used so far by a process and its descendants. Children it has
 * already reaped count through cutime/cstime; live ones through their own entries.
 */
export function treeCpuSeconds(pid) {
  let ticks = 0;
  for (const member of processTree(pid)) {
    const stat = readStat(member);
    if (stat) ticks += stat.utime + stat.stime + stat.cutime + stat.cstime;
  }
  return ticks / CLOCK_TICKS;
}

/**
 * Seconds one CPU has spent busy since boot (/proc/stat: user, nice, system, irq, softirq, steal),
 * whoever ran there. Minus what the bench's own processes used, it shows other load on that core.
 */
export function cpuBusySeconds(cpu) {
  const line = new RegExp(`^cpu${cpu} (.*)$`, 'm').exec(readFileSync('/proc/stat', 'utf8'));
  if (!line) return null;
  const [user, nice, system, , , irq, softirq, steal] = line[1].trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + (steal ?? 0)) / CLOCK_TICKS;
}

/**
 * How much of the last 10 s and 60 s some task waited for a CPU (/proc/pressure/cpu), in percent;
 * null where the kernel does not report it. High before a run means the machine is busy.
 */
export function cpuPressure() {
  try {
    const some = /^some avg10=([\d.]+) avg60=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return some ? { avg10: Number(some[1]), avg60: Number(some[2]) } : null;
  } catch {
    return null;
  }
}

/** Resident memory of a process and its descendants, in MiB (VmRSS of /proc/PID/status). */
export function treeRssMiB(pid) {
  let kib = 0;
  for (const member of processTree(pid)) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${member}/status`, 'utf8'));
      if (match) kib += Number(match[1]);
    } catch {
      // exited between listing and reading
    }
  }
  return kib / 1024;
}

/** Pins this process (the orchestrator) to a CPU, so it stays off the core under test. */
export function pinSelf(cpu, taskset) {
  if (!taskset) return false;
  return spawnSync(taskset, ['-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** The processes one bench run started; `stopAll` ends each of them, by PID, with descendants. */
export class Processes {
  /** @type {{name: string, child: import('node:child_process').ChildProcess, logPath: string | null}[]} */
  #running = [];
  #taskset;
  #stopping = false;

  /** `taskset`: its path, or null to run everything unpinned. */
  constructor(taskset) {
    this.#taskset = taskset;
  }

  /**
   * Starts a program, pinned to `cpu` when given. Output goes to `logPath` (read on failure) or is
   * captured when `capture` is set (for wrk). Returns the child; its PID is the program's own,
   * since taskset execs it.
   */
  start(name, command, args, { cpu = null, env = process.env, cwd, logPath = null, capture = false } = {}) {
    if (this.#stopping) throw new Error(`not starting ${name}: the bench is stopping`);
    const [file, argv] = cpu !== null && this.#taskset ? [this.#taskset, ['-c', String(cpu), command, ...args]] : [command, args];
    let stdio = ['ignore', 'ignore', 'ignore'];
    let fd = null;
    if (capture) stdio = ['ignore', 'pipe', 'pipe'];
    else if (logPath) {
      fd = openSync(logPath, 'a');
      stdio = ['ignore', fd, fd];
    }
    const child = spawn(file, argv, { stdio, env, cwd });
    if (fd !== null) closeSync(fd);
    const entry = { name, child, logPath };
    this.#running.push(entry);
    child.once('exit', () => {
      this.#running = this.#running.filter((e) => e !== entry);
    });
    child.once('error', () => {
      this.#running = this.#running.filter((e) => e !== entry);
    });
    return child;
  }

  /** Last lines of a program's log, for an error message. */
  static logTail(logPath, lines = 15) {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Asks every process still running to stop (SIGTERM), then kills what is left after `graceMs`. */
  async stopAll(graceMs = 3000) {
    this.#stopping = true;
    const entries = [...this.#running].reverse();
    const trees = new Map(entries.map((e) => [e, e.child.pid ? processTree(e.child.pid) : []]));
    for (const { child } of entries) signal(child.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...trees.values()].flat().some(alive)) await sleep(50);
    for (const pids of trees.values()) for (const pid of pids) if (alive(pid)) signal(pid, 'SIGKILL');
  }

  /** Synchronous last resort (process 'exit'): SIGKILL to every tracked process and descendant. */
  killAllNow() {
    for (const { child } of this.#running) {
      if (!child.pid) continue;
      for (const pid of processTree(child.pid).reverse()) signal(pid, 'SIGKILL');
    }
  }
}

function signal(pid, name) {
  if (!pid) return;
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function alive(pid) {
  try {
    // a zombie keeps its /proc entry until reaped; its state field (after the comm) is Z
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** One GET on 127.0.0.1 with a Host header: resolves {status, bytes, body (first 4 KiB)}. */
export function get(port, path, host = 'bench.test', timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      const head = [];
      res.on('data', (chunk) => {
        if (bytes < 4096) head.push(chunk);
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes, body: Buffer.concat(head).toString('utf8', 0, 4096) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from 127.0.0.1:${port}${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Waits until GET `path` answers `check` (status 200 by default), or fails when `child` exits or
 * `timeoutMs` passes; the error carries the last answer or connection error.
 */
export async function waitForHttp(port, path, { child, timeoutMs = 15000, check = (r) => r.status === 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before answering`);
    if (child && child.signalCode !== null) throw new Error(`was killed by ${child.signalCode} before answering`);
    try {
      const answer = await get(port, path, 'bench.test', 2000);
      if (check(answer)) return answer;
      last = `HTTP ${answer.status} (${answer.bytes} bytes)`;
    } catch (error) {
      last = error.code ?? error.message;
    }
    await sleep(100);
  }
  throw new Error(`GET ${path} on 127.0.0.1:${port} did not succeed within ${timeoutMs} ms (last: ${last})`);
}

/**
 * Runs one bench module on its own (`node bench/NAME.mjs`): `body({processes, tmp})` gets a
 * Processes (pinned through `taskset` when given) and a fresh temporary directory, and both are
 * cleaned up when it ends, throws, or the run is interrupted (SIGINT, SIGTERM).
 */
export async function runStandalone(name, body, { taskset = null } = {}) {
  const processes = new Processes(taskset);
  const tmp = mkdtempSync(join(tmpdir(), `gatehouse-bench-${name}-`));
  const stop = async () => {
    await processes.stopAll(2000);
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  try {
    await body({ processes, tmp });
  } finally {
    await stop();
  }
}
