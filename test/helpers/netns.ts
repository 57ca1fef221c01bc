// Running mDNS scenarios where multicast cannot leave the machine (RECIPES.md, mDNS): test files run
// on the host network, so each one spawns its scenario script (test/fixtures/discovery/*.ts, which
// prints its findings as one JSON line) inside a network namespace:
//
// - inNamespace: `unshare -rn` (no root needed), loopback up with multicast routed over it, and
//   optionally a veth pair inside it so this "host" has a LAN address (10.88.0.1) that is not
//   loopback; or nothing at all (lo down), where multicast has no route.
// - LanPair: two namespaces joined by a veth pair (`ip netns`, root only): two LAN hosts, 10.77.0.1
//   (Gatehouse) and 10.77.0.2 (the peer). Namespaces get names unique to this run, and are deleted
//   by name by destroy() and, whatever happened, when the test process exits.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './serve.js';
import { findTool, needTools } from './tools.js';

export const PYTHON = '/usr/bin/python3';
export const fixtures = join(repoRoot, 'test', 'fixtures', 'discovery');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (SIGKILL by PID after `timeoutMs`). */
export function run(command: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  const [file, ...args] = command;
  const child = spawn(file!, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '', ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What a namespace from inNamespace has besides itself. */
export type NamespaceNetwork =
  /** Loopback up, multicast routed over it: mDNS between processes in the namespace. */
  | 'loopback'
  /** Loopback plus a veth pair: this host's LAN address is 10.88.0.1 and multicast goes out there. */
  | 'lan-address'
  /** Nothing up: multicast has no route (sending fails with ENETUNREACH). */
  | 'none';

const SETUP: Record<NamespaceNetwork, string> = {
  loopback: 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo',
  'lan-address':
    'ip link set lo up && ip link add gh0 type veth peer name gh1 && ip addr add 10.88.0.1/24 dev gh0 && ip link set gh0 up && ip link set gh1 up && ip route add 224.0.0.0/4 dev gh0',
  none: 'true',
};

/** Runs `command` in a new user + network namespace (`unshare -rn`) set up as `network` says. */
export function inNamespace(command: readonly string[], options: { network?: NamespaceNetwork; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  const setup = SETUP[options.network ?? 'loopback'];
  return run(['unshare', '-rn', 'sh', '-c', `${setup} && exec "$@"`, 'sh', ...command], options);
}

/** node + tsx running a scenario script from test/fixtures/discovery. */
export function scenario(script: string, ...args: string[]): string[] {
  return [process.execPath, '--import', 'tsx', join(fixtures, script), ...args];
}

/** The scenario's result: its last stdout line, parsed. Throws with its output when it failed. */
export function scenarioResult<T>(result: RunResult): T {
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !last.startsWith('{')) {
    throw new Error(`The scenario failed (exit ${result.code}, signal ${result.signal}).\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  return JSON.parse(last) as T;
}

let zeroconfChecked: boolean | null = null;

/**
 * Skip reason for the namespace tests (false when all is there): unshare and ip, python3-zeroconf,
 * dig, and root for `ip netns` when `lanPair`. Under CI=true a missing piece fails instead.
 */
export function needNamespaceTools(options: { lanPair?: boolean } = {}): string | false {
  const missingTool = needTools(['unshare', 'util-linux'], ['ip', 'iproute2'], [PYTHON, 'python3'], ['dig', 'bind9-dnsutils']);
  if (missingTool) return missingTool;
  zeroconfChecked ??= spawnSync(PYTHON, ['-c', 'import zeroconf'], { stdio: 'ignore' }).status === 0;
  const reasons = [...(zeroconfChecked ? [] : ['python3-zeroconf (apt-get install python3-zeroconf)']), ...(options.lanPair && process.getuid?.() !== 0 ? ['root (ip netns)'] : [])];
  if (reasons.length === 0) return false;
  const reason = `needs ${reasons.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`CI must provide what the mDNS tests use: ${reason}`);
  return reason;
}

const liveNamespaces = new Set<string>();
process.once('exit', () => {
  for (const name of liveNamespaces) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
});
let pairs = 0;

export interface LanHost {
  namespace: string;
  address: string;
}

/** Two namespaces joined by a veth pair: two hosts on one LAN segment. */
export class LanPair {
  private constructor(
    readonly gatehouse: LanHost,
    readonly peer: LanHost,
  ) {}

  static async create(): Promise<LanPair> {
    if (!findTool('ip')) throw new Error('ip (iproute2) is needed');
    const id = `${process.pid}-${(pairs += 1)}`;
    const gatehouse = { namespace: `gh-${id}-a`, address: '10.77.0.1' };
    const peer = { namespace: `gh-${id}-b`, address: '10.77.0.2' };
    // Interface names are at most 15 bytes; they live inside the namespaces, so they need not be unique.
    const steps = [
      ['ip', 'netns', 'add', gatehouse.namespace],
      ['ip', 'netns', 'add', peer.namespace],
      ['ip', '-n', gatehouse.namespace, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1', 'netns', peer.namespace],
      ...[
        [gatehouse, 'lan0'],
        [peer, 'lan1'],
      ].flatMap(([host, device]) => {
        const { namespace, address } = host as LanHost;
        return [
          ['ip', '-n', namespace, 'link', 'set', 'lo', 'up'],
          ['ip', '-n', namespace, 'addr', 'add', `${address}/24`, 'dev', device as string],
          ['ip', '-n', namespace, 'link', 'set', device as string, 'up'],
          ['ip', '-n', namespace, 'route', 'add', '224.0.0.0/4', 'dev', device as string],
        ];
      }),
    ];
    for (const step of steps) {
      if (step[1] === 'netns' && step[2] === 'add') liveNamespaces.add(step[3]!);
      const result = await run(step, { timeoutMs: 10_000 });
      if (result.code !== 0) throw new Error(`${step.join(' ')} failed: ${result.stderr.trim()}`);
    }
    return new LanPair(gatehouse, peer);
  }

  /** `ip netns exec NAMESPACE command…` */
  static exec(host: LanHost, command: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', host.namespace, ...command];
  }

  async destroy(): Promise<void> {
    for (const host of [this.gatehouse, this.peer]) {
      await run(['ip', 'netns', 'del', host.namespace], { timeoutMs: 10_000 });
      liveNamespaces.delete(host.namespace);
    }
  }
}
