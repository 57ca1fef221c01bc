// A client that is not on any of this machine's networks, for tests of what a visitor from the
// internet sees (root only; RECIPES-wave2.md §7). A network namespace joined to the host by a veth
// pair with point-to-point addresses: the host end is hostAddress/32 and the namespace end
// clientAddress/32, so neither address falls inside a subnet of the other, and a server on the host
// sees the namespace's requests come from clientAddress. Names are unique to this process; the
// namespace is deleted by destroy() and, whatever happened, when the test process exits.
import { spawnSync } from 'node:child_process';
import { run } from './netns.js';
import { findTool } from './tools.js';

// Documentation ranges (TEST-NET-3 and -2), the last byte picked per process so that two test
// processes (or another job on the host using the recipe's .1/.2) do not claim the same route.
const lastByte = 10 + (process.pid % 240);

const live = new Set<string>();
process.once('exit', () => {
  for (const link of live) spawnSync('ip', ['link', 'del', link], { stdio: 'ignore' });
});
let made = 0;

/**
 * Skip reason for tests that need an outside client (false when all is there): root, ip, and the
 * given tools. Under CI=true a missing piece fails instead of skipping.
 */
export function needOutsideClient(...tools: string[]): string | false {
  const missing = [...(process.getuid?.() === 0 ? [] : ['root (ip netns)']), ...['ip', ...tools].filter((tool) => !findTool(tool))];
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`CI must run the outside-client tests: ${reason}`);
  return reason;
}

export class OutsideClient {
  /** The host's end: a server bound here (or to 0.0.0.0) is reachable from the namespace. */
  readonly hostAddress = `203.0.113.${lastByte}`;
  /** The namespace's end: what the host sees as the client's address. */
  readonly clientAddress = `198.51.100.${lastByte}`;

  private constructor(
    readonly namespace: string,
    private readonly hostLink: string,
  ) {}

  static async create(): Promise<OutsideClient> {
    made += 1;
    // Interface names are at most 15 bytes and live on the shared host: pid + counter keeps them apart.
    const id = `${process.pid % 100000}${made}`;
    const namespace = `ghout${id}`;
    const hostLink = `gho${id}h`;
    const client = new OutsideClient(namespace, hostLink);
    const { hostAddress, clientAddress } = client;
    const steps = [
      ['ip', 'netns', 'add', namespace],
      ['ip', 'link', 'add', hostLink, 'type', 'veth', 'peer', 'name', `gho${id}n`],
      ['ip', 'link', 'set', `gho${id}n`, 'netns', namespace],
      ['ip', 'addr', 'add', hostAddress, 'peer', clientAddress, 'dev', hostLink],
      ['ip', 'link', 'set', hostLink, 'up'],
      ['ip', '-n', namespace, 'addr', 'add', clientAddress, 'peer', hostAddress, 'dev', `gho${id}n`],
      ['ip', '-n', namespace, 'link', 'set', `gho${id}n`, 'up'],
      ['ip', '-n', namespace, 'link', 'set', 'lo', 'up'],
    ];
    try {
      for (const step of steps) {
        if (step[1] === 'link' && step[2] === 'add') live.add(hostLink);
        const result = await run(step, { timeoutMs: 10_000 });
        if (result.code !== 0) throw new Error(`${step.join(' ')} failed: ${result.stderr.trim()}`);
      }
    } catch (error) {
      await client.destroy();
      throw error;
    }
    return client;
  }

  /** Runs `command` inside the namespace, to its end. */
  exec(command: readonly string[], timeoutMs = 20_000) {
    return run(['ip', 'netns', 'exec', this.namespace, ...command], { timeoutMs });
  }

  async destroy(): Promise<void> {
    // Deleting the host end removes both ends at once; the namespace goes after.
    await run(['ip', 'link', 'del', this.hostLink], { timeoutMs: 10_000 });
    live.delete(this.hostLink);
    await run(['ip', 'netns', 'del', this.namespace], { timeoutMs: 10_000 });
  }
}
