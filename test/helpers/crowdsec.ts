// A throwaway CrowdSec (Debian's `crowdsec` 1.4.6) for tests, set up exactly as
// shared/RECIPES-wave2.md §1 ran it: its own temp directory, a random port on 127.0.0.1, no
// Central API, the package's offline hub enabled by symlink (nginx parser, whitelists, the
// http-probing and http-bad-user-agent scenarios), a SQLite database. The LAPI (and, when asked,
// the agent tailing log files) runs in the foreground and is stopped by its PID.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needTools } from './tools.js';

const HUB = '/usr/share/crowdsec/hub';
const DATA = '/usr/share/crowdsec/data';
const PATTERNS = '/etc/crowdsec/patterns';

/** For `test(name, { skip: needCrowdsec() }, fn)`. */
export function needCrowdsec(): string | false {
  return needTools(['crowdsec', 'crowdsec'], ['cscli', 'crowdsec']);
}

export interface CrowdsecOptions {
  /** Run the agent too, tailing these files as nginx logs (type nginx). Default: LAPI only. */
  tail?: string[];
}

export interface Crowdsec {
  readonly dir: string;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Runs cscli against this instance; rejects with its output when it fails. */
  cscli(...args: string[]): Promise<string>;
  /** A new bouncer's key (`cscli bouncers add NAME -o raw`). */
  addBouncer(name: string): Promise<string>;
  /** The decisions the LAPI holds for `ip` (`cscli decisions list --ip … -o json`). */
  decisionsFor(ip: string): Promise<{ value: string; scenario: string; type: string }[]>;
  /** Parses `file` as nginx logs once (`crowdsec -dsn file://… -type nginx -no-api`), pushing alerts to the LAPI. */
  replay(file: string): Promise<void>;
  /** Stops the process by PID (SIGTERM, SIGKILL after 10 s) and waits for its exit. */
  stop(): Promise<void>;
  /** Starts the same instance again (same port, database and bouncers) after stop(). */
  start(): Promise<void>;
  /** The process's output so far. */
  log(): string;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

function run(program: string, args: string[], ms = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: ms, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${program} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function layout(dir: string, port: number, tail: string[]): Promise<void> {
  const hub = join(dir, 'hub');
  for (const sub of ['data', 'hub', 'parsers/s00-raw', 'parsers/s01-parse', 'parsers/s02-enrich', 'scenarios']) await mkdir(join(dir, sub), { recursive: true });
  for (const item of ['blockers', 'collections', 'parsers', 'postoverflows', 'scenarios', '.index.json']) await symlink(join(HUB, item), join(hub, item));
  for (const file of await readdir(DATA)) await copyFile(join(DATA, file), join(dir, 'data', file));
  await symlink(PATTERNS, join(dir, 'patterns'));
  await writeFile(
    join(dir, 'config.yaml'),
    `common: {daemonize: false, log_media: stdout, log_level: info, working_dir: .}
config_paths: {config_dir: ${dir}/, data_dir: ${dir}/data/, simulation_path: ${dir}/simulation.yaml, hub_dir: ${hub}/,
  index_path: ${hub}/.index.json, notification_dir: ${dir}/notifications/, plugin_dir: /usr/lib/crowdsec/plugins/}
crowdsec_service: {acquisition_path: ${dir}/acquis.yaml, parser_routines: 1}
cscli: {output: human, color: false, hub_branch: master}
db_config: {type: sqlite, db_path: ${dir}/data/crowdsec.db, use_wal: true}
api:
  client: {credentials_path: ${dir}/local_api_credentials.yaml}
  server: {listen_uri: "127.0.0.1:${port}", profiles_path: ${dir}/profiles.yaml, trusted_ips: [127.0.0.1, "::1"]}
prometheus: {enabled: false}
`,
  );
  await writeFile(join(dir, 'simulation.yaml'), 'simulation: off\n');
  const files = tail.length > 0 ? tail : [join(dir, 'unused.log')];
  await writeFile(join(dir, 'acquis.yaml'), `filenames: [${files.map((file) => JSON.stringify(file)).join(', ')}]\nlabels: {type: nginx}\n`);
  await writeFile(
    join(dir, 'profiles.yaml'),
    `name: default_ip_remediation
filters: ['Alert.Remediation == true && Alert.GetScope() == "Ip"']
decisions: [{type: ban, duration: 4h}]
on_success: break
`,
  );
  const enable = (stage: string, name: string) => symlink(join(hub, stage, 'crowdsecurity', `${name}.yaml`), join(dir, stage, `${name}.yaml`));
  // syslog-logs holds the `non-syslog` node that hands plain files to nginx-logs (without it every line fails).
  await enable('parsers/s00-raw', 'syslog-logs');
  await enable('parsers/s01-parse', 'nginx-logs');
  for (const name of ['dateparse-enrich', 'http-logs', 'whitelists']) await enable('parsers/s02-enrich', name);
  for (const name of ['http-probing', 'http-bad-user-agent']) await enable('scenarios', name);
}

/** Sets up and starts an instance; the caller closes it in t.after. */
export async function startCrowdsec(options: CrowdsecOptions = {}): Promise<Crowdsec> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-crowdsec-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, 'config.yaml');
  const tail = options.tail ?? [];
  let child: ChildProcess | null = null;
  let output = '';
  const cscli = (...args: string[]) => run('cscli', ['-c', config, ...args]);

  const start = async () => {
    output = '';
    const args = ['-c', config, ...(tail.length === 0 ? ['-no-cs'] : [])];
    const proc = spawn('crowdsec', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    proc.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`crowdsec exited (${proc.exitCode}) while starting:\n${output}`);
      const healthy = await fetch(`${url}/health`).then((res) => res.ok, () => false);
      if (healthy && (tail.length === 0 || output.includes('Starting processing data'))) return;
      if (Date.now() > deadline) throw new Error(`crowdsec did not become ready within 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    const exited = once(proc, 'exit');
    process.kill(proc.pid, 'SIGTERM');
    const timer = setTimeout(() => proc.pid !== undefined && process.kill(proc.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await layout(dir, port, tail);
    await cscli('machines', 'add', 'test', '--auto', '--force', '-f', join(dir, 'local_api_credentials.yaml'));
    await start();
  } catch (error) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    dir,
    port,
    url,
    cscli,
    addBouncer: async (name) => (await cscli('bouncers', 'add', name, '-o', 'raw')).trim(),
    decisionsFor: async (ip) => {
      const alerts = JSON.parse((await cscli('decisions', 'list', '--ip', ip, '-o', 'json')).trim() || 'null') as { decisions?: { value: string; scenario: string; type: string }[] }[] | null;
      return (alerts ?? []).flatMap((alert) => alert.decisions ?? []);
    },
    replay: async (file) => {
      await run('crowdsec', ['-c', config, '-dsn', `file://${file}`, '-type', 'nginx', '-no-api'], 60_000);
    },
    stop,
    start,
    log: () => output,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
