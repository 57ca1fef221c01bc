// "Trust on this machine": the exact commands that install the local CA into this machine's trust
// stores (and remove it again), what is trusted now, and running those commands once the person
// agreed. The plan is built without changing anything and without any command that prompts, so the
// app can show every command before asking; runTrustSteps runs them without a shell, off the event
// loop, each bounded in time and output (the proxy may be serving in the same process).
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Problem, TrustPlan, TrustStep } from '../../../shared/status.js';
import type { LocalCaInfo } from './local-ca.js';
import { findOnPath, findSystemTool, runCommand, type CommandOutcome } from './trust-commands.js';

export { runTrustSteps, STEP_TIMEOUT_MS, type CommandOutcome, type RunLimits } from './trust-commands.js';

/** What a plan depends on, injectable so tests can build other platforms' plans and use temp folders. */
export interface TrustEnvironment {
  /** Default process.platform. */
  platform?: NodeJS.Platform;
  /** The user's home folder (NSS databases, Firefox profiles, the macOS login keychain); default os.homedir(). */
  homeDir?: string;
  /** Whether this process runs as root, so Linux system-store steps need no pkexec; default from getuid(). */
  isRoot?: boolean;
  /** A program that runs as this user: its absolute path, or null when it is not installed; default a search of PATH (plus sbin folders). */
  findTool?: (name: string) => Promise<string | null>;
  /**
   * A program that runs as root or asks for a password (pkexec, and every system-store step even
   * when Gatehouse itself runs as root; macOS' security): default a search of /usr/sbin, /usr/bin,
   * /sbin and /bin only (Windows: System32), never PATH, whose folders a user may write to.
   */
  findAdminTool?: (name: string) => Promise<string | null>;
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

/** A status check prompts for nothing, so it answers quickly or not at all: 10 seconds. */
const STATUS_TIMEOUT_MS = 10_000;

interface ResolvedEnvironment extends Required<Omit<TrustEnvironment, 'stores'>> {
  stores: SystemStoreFolders;
}

function resolveEnvironment(env: TrustEnvironment): ResolvedEnvironment {
  return {
    platform: env.platform ?? process.platform,
    homeDir: env.homeDir ?? homedir(),
    isRoot: env.isRoot ?? process.getuid?.() === 0,
    findTool: env.findTool ?? findOnPath,
    findAdminTool: env.findAdminTool ?? findSystemTool,
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
  // Every program here runs as root (through pkexec, or because Gatehouse does): system folders only.
  const debianTool = await env.findAdminTool('update-ca-certificates');
  const fedoraTool = debianTool ? null : await env.findAdminTool('update-ca-trust');
  if (!debianTool && !fedoraTool) {
    builder.missing.push('update-ca-certificates or update-ca-trust (package ca-certificates) for the system store');
    return;
  }
  const [install, remove] = await Promise.all([env.findAdminTool('install'), env.findAdminTool('rm')]);
  const pkexec = env.isRoot ? null : await env.findAdminTool('pkexec');
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
  const security = await env.findAdminTool('security');
  if (!security) {
    builder.missing.push('the security command (part of macOS, in /usr/bin)');
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

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}
