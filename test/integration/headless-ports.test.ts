// How `gatehouse serve` fails when it cannot listen, as the user sees it: the Problem's message and
// its fix on the terminal, exit code 2, and no stack trace. Plus the command line's own errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { PortCheck } from '../../shared/status.js';
import { binPath, makeDataDir, repoRoot, runCli, runServeToExit, startServe } from '../helpers/serve.js';
import { findTool, needTools } from '../helpers/tools.js';

const STACK_LINE = /^\s{4}at /m;

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '0.0.0.0');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

describe('serve cannot listen', () => {
  let dataDir: string;
  let blocker: { server: Server; port: number };

  before(async () => {
    dataDir = await makeDataDir();
    blocker = await occupy();
  });
  after(async () => {
    blocker.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a proxy port in use: message, ss -ltnp fix, exit 2, no stack', async () => {
    const run = await runServeToExit({ dataDir, httpPort: blocker.port });
    const output = run.stdout + run.stderr;
    assert.equal(run.code, 2, output);
    assert.match(output, new RegExp(`The proxy cannot listen on 0\\.0\\.0\\.0:${blocker.port}: another program is already using port ${blocker.port}`));
    assert.match(output, new RegExp(`ss -ltnp 'sport = :${blocker.port}'`));
    assert.doesNotMatch(output, STACK_LINE);
  });

  test('an admin port in use: the same, naming the admin server', async () => {
    const run = await runServeToExit({ dataDir, adminPort: blocker.port, args: ['--admin-bind', '0.0.0.0'] });
    const output = run.stdout + run.stderr;
    assert.equal(run.code, 2, output);
    assert.match(output, /The admin server cannot listen on 0\.0\.0\.0:\d+: another program is already using port/);
    assert.match(output, /ss -ltnp/);
    assert.doesNotMatch(output, STACK_LINE);
  });
});

describe('serve as an unprivileged user on port 80', () => {
  const reason = ((): string | false => {
    const missing = needTools(['setpriv', 'util-linux']);
    if (missing) return missing;
    if (process.platform !== 'linux') return 'Linux only (setpriv and ip_unprivileged_port_start)';
    if (process.getuid?.() !== 0) return 'needs root to switch to the user nobody';
    return false;
  })();
  const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'];

  /** A data directory the user nobody owns, or null (the test skipped) when port 80 is open to all or nobody cannot read the checkout. */
  async function nobodysDataDir(t: TestContext): Promise<string | null> {
    const floor = Number.parseInt(await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'), 10);
    if (floor <= 80) {
      t.skip(`ip_unprivileged_port_start is ${floor} here, so any user may bind port 80`);
      return null;
    }
    const needed = [process.execPath, binPath, join(repoRoot, 'dist/node/src-main/headless/cli.js'), join(repoRoot, 'node_modules/zod/package.json')];
    const readable = spawnSync(findTool('setpriv')!, [...asNobody.slice(1), 'sh', '-c', 'for f; do test -r "$f" || { echo "$f"; exit 1; }; done', 'sh', ...needed], {
      encoding: 'utf8',
    });
    if (readable.status !== 0) {
      const why = `the user nobody cannot read ${readable.stdout.trim() || 'the checkout'} (${readable.stderr.trim()})`;
      if (process.env.CI === 'true') assert.fail(`${why}; CI must run from a checkout every user can read`);
      t.skip(why);
      return null;
    }
    const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-nobody-'));
    await chown(dataDir, 65534, 65534);
    return dataDir;
  }

  test('EACCES explains setcap and the sysctl', { skip: reason }, async (t) => {
    const dataDir = await nobodysDataDir(t);
    if (!dataDir) return;
    try {
      const run = await runServeToExit({ dataDir, httpPort: 80, prefix: asNobody });
      const output = run.stdout + run.stderr;
      assert.equal(run.code, 2, output);
      assert.match(output, /The proxy is not allowed to listen on 0\.0\.0\.0:80\./);
      assert.match(output, /setcap cap_net_bind_service=\+ep/);
      assert.match(output, /sysctl -w net\.ipv4\.ip_unprivileged_port_start=80/);
      assert.doesNotMatch(output, STACK_LINE);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('checkPorts says port 80 needs a permission, with the same fix', { skip: reason }, async (t) => {
    const dataDir = await nobodysDataDir(t);
    if (!dataDir) return;
    const serve = await startServe({ dataDir, prefix: asNobody });
    try {
      const answer = await serve.api('/api/proxy/check-ports', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ httpPort: 80, bindAddress: '127.0.0.1' }),
      });
      assert.equal(answer.status, 200);
      const [check] = (await answer.json()) as PortCheck[];
      assert.equal(check?.available, false);
      assert.equal(check?.problem?.code, 'port_permission');
      assert.match(check?.problem?.message ?? '', /The proxy is not allowed to listen on 127\.0\.0\.1:80\./);
      assert.match(check?.problem?.fix ?? '', /sysctl -w net\.ipv4\.ip_unprivileged_port_start=80/);
    } finally {
      await serve.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the command line', () => {
  test('--help and --version exit 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: gatehouse serve/);
    assert.match(help.stdout, /--admin-bind ADDR/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    const { version: expected } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), `gatehouse ${expected}`);
  });

  test('a bad flag value is one clear line and exit 2', async () => {
    for (const [args, expected] of [
      [['serve', '--http-port', 'eighty'], /--http-port must be a port number from 0 to 65535, not "eighty"/],
      [['serve', '--admin-port', '70000'], /--admin-port must be a port number/],
      [['serve', '--bind', 'localhost'], /--bind must be an IP address/],
      [['serve', '--colour'], /unknown option --colour/],
      [['serve', '--data-dir'], /--data-dir needs a value/],
      [['start'], /unknown command "start"/],
      [[], /no command given/],
    ] as const) {
      const run = await runCli([...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(run.stdout, '');
      const lines = run.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, expected);
    }
  });
});
