// "Trust on this machine": the exact commands that install the local CA into this machine's trust
// stores (and remove it again), what is trusted now, and running those commands once the person
// agreed. The plan is built without changing anything and without any command that prompts, so the
// app can show every command before asking; runTrustSteps runs them without a shell, off the event
// loop, each bounded in time and output (the proxy may be serving in the same process).
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Problem, TrustPlan, TrustResult, TrustStep } from '../../../shared/status.js';
import type { LocalCaInfo } from './local-ca.js';

/** What a plan depends on, injectable so tests can build other platforms' plans and use temp folders. */
export interface TrustEnvironment {
  /** Default process.platform. */
  platform?: NodeJS.Platform;
  /** The user's home folder (NSS databases, Firefox profiles, the macOS login keychain); default os.homedir(). */
  homeDir?: string;
  /** Whether this process runs as root, so Linux system-store steps need no pkexec; default from getuid(). */
  isRoot?: boolean;
  /** A program's absolute path, or null when it is not installed; default a search of PATH (plus sbin folders). */
  findTool?: (name: string) => Promise<string | null>;
  /** Runs a status check that never prompts; default execFile, no shell, bounded to 10 s. */
  check?: (command: string[]) => Promise<CommandOutcome>;
  /** Where the Linux system stores live; default the distributions' own folders. */
  stores?: Partial<SystemStoreFolders>;
}

export interface SystemStoreFolders {
  /** Debian family: where update-ca-certificates takes local CAs from. Default /usr/local/share/ca-certificates. */
  debianLocalCerts: string;
  /** Extra arguments for update-ca-certificates (tests point it at other folders). Default none. */
  debianUpdateArgs: string[];
  /** Fedora family: where update-ca-trust takes anchors from. Default /etc/pki/ca-trust/source/anchors. */
  fedoraAnchors: string;
  /** Extra arguments for `update-ca-trust extract`. Default none. */
  fedoraUpdateArgs: string[];
}

const DEFAULT_STORE_FOLDERS: SystemStoreFolders = {
  debianLocalCerts: '/usr/local/share/ca-certificates',
  debianUpdateArgs: [],
  fedoraAnchors: '/etc/pki/ca-trust/source/anchors',
  fedoraUpdateArgs: [],
};

export interface CommandOutcome {
  /** The exit code; null when the program could not be started or was stopped. */
  code: number | null;
  /** stdout then stderr, trimmed and cut to OUTPUT_KEEP_CHARS. */
  output: string;
}

/** A step may wait on a person typing a password (pkexec, macOS, Windows' confirmation): 2 minutes. */
export const STEP_TIMEOUT_MS = 120_000;
/** A status check prompts for nothing, so it answers quickly or not at all: 10 seconds. */
const STATUS_TIMEOUT_MS = 10_000;
/** Output a step may print before it is stopped (bytes); certutil and the update tools print little. */
const STEP_MAX_OUTPUT_BYTES = 256 * 1024;
/** Output kept per step for the result shown to the person (characters). */
const OUTPUT_KEEP_CHARS = 4000;

interface ResolvedEnvironment extends Required<Omit<TrustEnvironment, 'stores'>> {
  stores: SystemStoreFolders;
}

function resolveEnvironment(env: TrustEnvironment): ResolvedEnvironment {
  return {
    platform: env.platform ?? process.platform,
    homeDir: env.homeDir ?? homedir(),
    isRoot: env.isRoot ?? process.getuid?.() === 0,
    findTool: env.findTool ?? findOnPath,
    check: env.check ?? ((command) => runCommand(command, STATUS_TIMEOUT_MS)),
    stores: { ...DEFAULT_STORE_FOLDERS, ...env.stores },
  };
}

/** What a plan is built from: the CA's file on disk (PEM) and its public facts. */
export interface TrustedCa {
  certPath: string;
  info: LocalCaInfo;
}

/** Collects one platform's plan; a store's tool that is missing becomes a line of the problem. */
class PlanBuilder {
  readonly install: TrustStep[] = [];
  readonly uninstall: TrustStep[] = [];
  readonly installed: TrustPlan['installed'] = [];
  readonly missing: string[] = [];

  /** A store: its install steps, whether it holds the CA now, and (unless it surely does not) its uninstall steps. */
  store(store: string, trusted: boolean | null, install: [string[], boolean][], uninstall: [string[], boolean][]): void {
    this.installed.push({ store, trusted });
    this.install.push(...install.map(([command, needsAdmin]) => ({ store, command, needsAdmin })));
    if (trusted !== false) this.uninstall.push(...uninstall.map(([command, needsAdmin]) => ({ store, command, needsAdmin })));
  }

  plan(platform: string): TrustPlan {
    const problem: Problem | null =
      this.missing.length === 0
        ? null
        : {
            code: 'trust_tool_missing',
            message: `Trusting the CA here needs ${this.missing.join(', and ')}.`,
            fix: 'Install the package named, then check again.',
          };
    return { platform, supported: problem === null, install: this.install, uninstall: this.uninstall, installed: this.installed, problem };
  }
}

/**
 * What "Trust on this machine" would run here, exactly, and what is trusted now. Changes nothing
 * and runs only status checks that never prompt.
 */
export async function trustPlan(ca: TrustedCa, env: TrustEnvironment = {}): Promise<TrustPlan> {
  const resolved = resolveEnvironment(env);
  const builder = new PlanBuilder();
  switch (resolved.platform) {
    case 'linux':
      await planLinuxSystem(ca, resolved, builder);
      await planNss(ca, resolved, builder);
      break;
    case 'darwin':
      await planMacos(ca, resolved, builder);
      break;
    case 'win32':
      await planWindows(ca, resolved, builder);
      break;
    default:
      return {
        platform: resolved.platform,
        supported: false,
        install: [],
        uninstall: [],
        installed: [],
        problem: {
          code: 'trust_platform_unsupported',
          message: `Gatehouse cannot install the CA on ${resolved.platform} by itself.`,
          fix: 'Open the onboarding page (/ca) on this machine and follow the steps for it.',
        },
      };
  }
  return builder.plan(resolved.platform);
}

/** The first 8 hex digits of the fingerprint: names the file and nickname, so two CAs never collide. */
function shortFingerprint(info: LocalCaInfo): string {
  return info.fingerprintSha256.replace(/:/g, '').slice(0, 8).toLowerCase();
}

async function planLinuxSystem(ca: TrustedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  const debianTool = await env.findTool('update-ca-certificates');
  const fedoraTool = debianTool ? null : await env.findTool('update-ca-trust');
  if (!debianTool && !fedoraTool) {
    builder.missing.push('update-ca-certificates or update-ca-trust (package ca-certificates) for the system store');
    return;
  }
  const [install, remove] = await Promise.all([env.findTool('install'), env.findTool('rm')]);
  const pkexec = env.isRoot ? null : await env.findTool('pkexec');
  if (!install || !remove) builder.missing.push('install and rm (package coreutils)');
  if (!env.isRoot && !pkexec) builder.missing.push('pkexec (package pkexec, or polkit on Fedora) to change the system store');
  if (!install || !remove || (!env.isRoot && !pkexec)) return;

  const admin = (command: string[]): [string[], boolean] => (pkexec ? [[pkexec, ...command], true] : [command, false]);
  const fp8 = shortFingerprint(ca.info);
  const target = debianTool
    ? join(env.stores.debianLocalCerts, `gatehouse-${fp8}.crt`)
    : join(env.stores.fedoraAnchors, `gatehouse-${fp8}.pem`);
  const update = debianTool ? [debianTool, ...env.stores.debianUpdateArgs] : [fedoraTool!, 'extract', ...env.stores.fedoraUpdateArgs];
  // Debian leaves the removed CA's links behind unless told to rebuild them all (--fresh).
  const updateAfterRemoval = debianTool ? [debianTool, '--fresh', ...env.stores.debianUpdateArgs] : update;
  builder.store(
    `System certificates (${debianTool ? 'update-ca-certificates' : 'update-ca-trust'})`,
    await exists(target),
    [admin([install, '-m', '0644', ca.certPath, target]), admin(update)],
    [admin([remove, '-f', target]), admin(updateAfterRemoval)],
  );
}

/** Chromium and Chrome read ~/.pki/nssdb on Linux; every Firefox profile has a database of its own. */
async function planNss(ca: TrustedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  const certutil = await env.findTool('certutil');
  if (!certutil) {
    builder.missing.push('certutil (package libnss3-tools, or nss-tools on Fedora) for Chromium, Chrome and Firefox');
    return;
  }
  const mkdir = await env.findTool('mkdir');
  const nickname = `Gatehouse local CA ${shortFingerprint(ca.info)}`;
  const databases = [{ store: 'Chromium and Chrome (NSS)', dir: join(env.homeDir, '.pki', 'nssdb') }, ...(await firefoxProfiles(env.homeDir))];
  for (const { store, dir } of databases) {
    const db = `sql:${dir}`;
    const hasDatabase = await exists(join(dir, 'cert9.db'));
    const create: [string[], boolean][] = [];
    if (!hasDatabase) {
      // A Firefox profile folder exists already; ~/.pki/nssdb appears only once a browser made it.
      if (!(await exists(dir))) {
        if (!mkdir) builder.missing.push(`mkdir (package coreutils) to create ${dir}`);
        else create.push([[mkdir, '-p', '-m', '0700', dir], false]);
      }
      create.push([[certutil, '-N', '-d', db, '--empty-password'], false]);
    }
    const trusted = hasDatabase ? (await env.check([certutil, '-d', db, '-L', '-n', nickname])).code === 0 : false;
    builder.store(store, trusted, [...create, [[certutil, '-d', db, '-A', '-t', 'C,,', '-n', nickname, '-i', ca.certPath], false]], [[[certutil, '-d', db, '-D', '-n', nickname], false]]);
  }
}

/** Firefox's profiles, from profiles.ini in the usual and the snap package's folders. */
async function firefoxProfiles(homeDir: string): Promise<{ store: string; dir: string }[]> {
  const roots = [
    { root: join(homeDir, '.mozilla', 'firefox'), suffix: '' },
    { root: join(homeDir, 'snap', 'firefox', 'common', '.mozilla', 'firefox'), suffix: ' (snap)' },
  ];
  const profiles: { store: string; dir: string }[] = [];
  for (const { root, suffix } of roots) {
    let ini: string;
    try {
      ini = await fs.readFile(join(root, 'profiles.ini'), 'utf8');
    } catch {
      continue;
    }
    for (const section of parseIni(ini)) {
      if (!/^Profile\d+$/.test(section.name) || !section.values.Path) continue;
      const dir = section.values.IsRelative === '0' ? section.values.Path : join(root, section.values.Path);
      if (await exists(dir)) profiles.push({ store: `Firefox profile ${section.values.Name ?? section.values.Path}${suffix}`, dir });
    }
  }
  return profiles;
}

function parseIni(text: string): { name: string; values: Record<string, string> }[] {
  const sections: { name: string; values: Record<string, string> }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[(.+)\]\s*$/.exec(line);
    if (header) sections.push({ name: header[1]!, values: {} });
    const pair = /^\s*([^=;#\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (pair && sections.length > 0) sections[sections.length - 1]!.values[pair[1]!] = pair[2]!;
  }
  return sections;
}

async function planMacos(ca: TrustedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  const security = await env.findTool('security');
  if (!security) {
    builder.missing.push('the security command (part of macOS; is /usr/bin on PATH?)');
    return;
  }
  const keychain = join(env.homeDir, 'Library', 'Keychains', 'login.keychain-db');
  const sha1 = new X509Certificate(ca.info.certificatePem).fingerprint.replace(/:/g, '');
  // Listing certificates never prompts; whether the trust setting is still "Always Trust" cannot be read without one.
  const listed = await env.check([security, 'find-certificate', '-a', '-c', 'Gatehouse local CA', '-Z', keychain]);
  const trusted = listed.code === 0 ? listed.output.toUpperCase().includes(sha1) : listed.code === null ? null : false;
  builder.store(
    'macOS login keychain',
    trusted,
    // add-trusted-cert asks for the login password to change the trust settings.
    [[[security, 'add-trusted-cert', '-r', 'trustRoot', '-k', keychain, ca.certPath], true]],
    // Removing a certificate that carries a trust setting asks for it too.
    [[[security, 'delete-certificate', '-Z', sha1, keychain], true]],
  );
}

async function planWindows(ca: TrustedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  const certutil = await env.findTool('certutil');
  if (!certutil) {
    builder.missing.push('certutil.exe (part of Windows; is System32 on PATH?)');
    return;
  }
  const serial = new X509Certificate(ca.info.certificatePem).serialNumber.toLowerCase();
  const listed = await env.check([certutil, '-user', '-store', 'Root', serial]);
  builder.store(
    'Windows certificates (current user, Trusted Root)',
    listed.code === null ? null : listed.code === 0,
    // The current user's Root store needs no administrator; Windows shows its own confirmation dialog.
    [[[certutil, '-user', '-addstore', 'Root', ca.certPath], false]],
    [[[certutil, '-user', '-delstore', 'Root', serial], false]],
  );
}

// ---------------------------------------------------------------------------------------------
// Running the steps

export interface RunLimits {
  /** Per step, in milliseconds; default STEP_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * Runs the steps in order, no shell. A step that fails skips the remaining steps of its store (a
 * database that could not be created cannot take the certificate), while other stores go on.
 */
export async function runTrustSteps(steps: TrustStep[], limits: RunLimits = {}): Promise<TrustResult['steps']> {
  const failedStores = new Set<string>();
  const results: TrustResult['steps'] = [];
  for (const step of steps) {
    if (failedStores.has(step.store)) {
      results.push({ store: step.store, command: step.command, ok: false, output: 'Not run: an earlier step for this store failed.' });
      continue;
    }
    const outcome = await runCommand(step.command, limits.timeoutMs ?? STEP_TIMEOUT_MS);
    const ok = outcome.code === 0;
    if (!ok) failedStores.add(step.store);
    results.push({ store: step.store, command: step.command, ok, output: outcome.output });
  }
  return results;
}

/** One program, no shell, bounded in time and output; never throws. */
function runCommand(command: string[], timeoutMs: number): Promise<CommandOutcome> {
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

// ---------------------------------------------------------------------------------------------
// Finding programs

/** sbin folders hold update-ca-certificates but are often missing from a desktop user's PATH. */
const EXTRA_POSIX_FOLDERS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

async function findOnPath(name: string): Promise<string | null> {
  if (isAbsolute(name)) return (await isExecutable(name)) ? name : null;
  const folders = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const windows = process.platform === 'win32';
  const candidates = windows
    ? [...folders, join(process.env.SystemRoot ?? 'C:\\Windows', 'System32')].map((folder) => join(folder, `${name}.exe`))
    : [...new Set([...folders, ...EXTRA_POSIX_FOLDERS])].map((folder) => join(folder, name));
  for (const candidate of candidates) if (await isExecutable(candidate)) return candidate;
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

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}
