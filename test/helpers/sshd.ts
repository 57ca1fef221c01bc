// A throwaway OpenSSH 9.2 server for stream tests, as shared/RECIPES-wave2.md §4 ran it: its own temp
// directory (mode 755: sshd reads the authorized keys as the user), an ed25519 host key, a random port,
// key login only for one throwaway user (useradd -m, password '*' so the account is not "locked"),
// `Subsystem sftp internal-sftp`, foreground (-D -e), stopped by its PID; the user is removed on close.
//
// A test that connects through Gatehouse still checks the host key: knownHostsFor(gatehouseHost,
// gatehousePort) writes a known_hosts line naming that address with this server's key, and
// sshArgs(host, port) gives every option (-F none, the identity, BatchMode, StrictHostKeyChecking=yes,
// Port, User) so `ssh ...sshArgs(h, p) h CMD` and `sftp -b FILE ...sshArgs(h, p) h` just work.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, runBounded, type RunResult } from './ftp-clients.js';
import { needTools } from './tools.js';
import { createThrowawayUser, freePortOn, needRoot, stopPeer } from './vsftpd.js';

/** For `test(name, { skip: needSshd() }, fn)`: sshd, ssh, sftp, ssh-keygen, useradd, and root. */
export function needSshd(): string | false {
  return (
    needTools(['/usr/sbin/sshd', 'openssh-server'], ['ssh', 'openssh-client'], ['sftp', 'openssh-client'], ['ssh-keygen', 'openssh-client'], ['useradd', 'passwd']) ||
    needRoot('sshd (throwaway system user, privilege separation)')
  );
}

export interface SshdOptions {
  /** Listen address. Default 127.0.0.1. */
  address?: string;
}

export interface Sshd {
  readonly dir: string;
  readonly address: string;
  readonly port: number;
  /** The throwaway user that may log in with identityFile. */
  readonly user: string;
  /** Private key (ed25519, no passphrase) for `user`. */
  readonly identityFile: string;
  /** The server's public host key line ("ssh-ed25519 AAAA…"). */
  readonly hostKey: string;
  /** Writes (once per host:port) a known_hosts file naming host:port with this server's host key; returns its path. */
  knownHostsFor(host: string, port: number): string;
  /** -F none, -i identity, BatchMode, IdentitiesOnly, strict host key check against knownHostsFor(host, port), Port, User, ConnectTimeout. */
  sshArgs(host: string, port: number): string[];
  /** Runs `ssh … host command` through host:port (default: this server directly). */
  ssh(command: string, via?: { host: string; port: number }, timeoutMs?: number): Promise<RunResult>;
  /** Runs `sftp -b` with these batch lines through host:port (default: this server directly). */
  sftp(batch: string[], via?: { host: string; port: number }, timeoutMs?: number): Promise<RunResult>;
  /** sshd's stderr (-e): "Server listening on …", "Accepted publickey for …", refusals. */
  log(): string;
  close(): Promise<void>;
}

async function must(program: string, args: string[]): Promise<void> {
  const result = await runBounded(program, args, { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${describeRun(result)}`);
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const address = options.address ?? '127.0.0.1';
  // Else: "Missing privilege separation directory: /run/sshd" (the package's service creates it; it never ran here).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-sshd-'));
  await chmod(dir, 0o755);
  let account: { name: string; remove(): Promise<void> } | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child) await stopPeer(child);
    await account?.remove();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    account = await createThrowawayUser('ghssh', null);
    const user = account.name;
    const hostKeyFile = join(dir, 'host_key');
    const identityFile = join(dir, 'id');
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gatehouse-test-host', '-f', hostKeyFile]);
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gatehouse-test-user', '-f', identityFile]);
    await mkdir(join(dir, 'ak'), { mode: 0o755 });
    await writeFile(join(dir, 'ak', user), await readFile(`${identityFile}.pub`), { mode: 0o644 });
    const hostKey = (await readFile(`${hostKeyFile}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    let output = '';
    for (let attempt = 1; ; attempt++) {
      const port = await freePortOn(address);
      const config = [
        `ListenAddress ${address}:${port}`, `HostKey ${hostKeyFile}`, 'PidFile none', `AuthorizedKeysFile ${join(dir, 'ak')}/%u`,
        'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', `AllowUsers ${user}`,
        'Subsystem sftp internal-sftp', 'LogLevel VERBOSE', 'MaxStartups 100:30:200', 'X11Forwarding no', 'PrintMotd no',
      ];
      await writeFile(join(dir, 'sshd_config'), `${config.join('\n')}\n`);
      await must('/usr/sbin/sshd', ['-t', '-f', join(dir, 'sshd_config')]);
      output = '';
      const started = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 15_000;
      while (!/Server listening/.test(output) && started.exitCode === null && started.signalCode === null) {
        if (Date.now() > deadline) throw new Error(`sshd did not start within 15 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!/Server listening/.test(output)) {
        if (/Address already in use/i.test(output) && attempt < 5) continue;
        throw new Error(`sshd exited at start (code ${started.exitCode}):\n${output}`);
      }
      const knownHosts = new Map<string, string>();
      const knownHostsFor = (host: string, hostPort: number): string => {
        const key = `${host}:${hostPort}`;
        let path = knownHosts.get(key);
        if (!path) {
          path = join(dir, `known_hosts-${knownHosts.size}`);
          const pattern = hostPort === 22 ? host : `[${host}]:${hostPort}`;
          writeFileSync(path, `${pattern} ${hostKey}\n`);
          knownHosts.set(key, path);
        }
        return path;
      };
      const sshArgs = (host: string, hostPort: number): string[] => [
        '-F', 'none', '-i', identityFile,
        '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${knownHostsFor(host, hostPort)}`, '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', `Port=${hostPort}`, '-o', `User=${user}`, '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR',
      ];
      return {
        dir,
        address,
        port,
        user,
        identityFile,
        hostKey,
        knownHostsFor,
        sshArgs,
        ssh: (command, via = { host: address, port }, timeoutMs = 30_000) => runBounded('ssh', [...sshArgs(via.host, via.port), via.host, command], { timeoutMs }),
        async sftp(batch, via = { host: address, port }, timeoutMs = 30_000) {
          const batchFile = join(dir, `batch-${Date.now()}-${Math.random().toString(36).slice(2)}`);
          await writeFile(batchFile, `${batch.join('\n')}\n`);
          return runBounded('sftp', ['-b', batchFile, ...sshArgs(via.host, via.port), via.host], { timeoutMs });
        },
        log: () => output,
        close: cleanup,
      };
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
}
