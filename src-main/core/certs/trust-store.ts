// "Trust on this machine": the exact commands that install the local CA into this machine's trust
// stores (and remove it again), what is trusted now, and running those commands once the person
// agreed. The plan is built without changing anything and without any command that prompts, so the
// app can show every command before asking; runTrustPlan runs them (trust-commands.ts).
//
// The file installed is never ca.pem in the data directory, which could be swapped between showing
// the plan and root reading it: runTrustPlan writes the CA it holds in memory to a fresh private
// folder (mkdtemp, 0700) in the OS temp folder right before the steps run, builds the plan with that
// path, and removes the folder afterwards. The plan shown beforehand names the same file in
// `<OS temp folder>/gatehouse-trust-XXXXXX/`, XXXXXX standing for the random part chosen at run time;
// runTrustSteps refuses to run a step naming that placeholder.
//
// Removal takes every Gatehouse CA this machine trusts, not only the current one: a CA replaced by a
// change of domains would otherwise stay trusted with nothing offering to remove it. Those found are
// listed in `installed` as "<store>: earlier Gatehouse CA <name>".
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem, TrustPlan, TrustResult, TrustStep } from '../../../shared/status.js';
import type { LocalCaInfo } from './local-ca.js';
import { SHOWN_CA_FOLDER, findSystemTool, runCommand, runTrustSteps, type CommandOutcome, type RunLimits } from './trust-commands.js';

export { runTrustSteps, STEP_TIMEOUT_MS, type CommandOutcome, type RunLimits } from './trust-commands.js';

/** The prefix of every NSS nickname Gatehouse gives its CAs. */
const NSS_NICKNAME_PREFIX = 'Gatehouse local CA';
/**
 * Files Gatehouse puts in a Linux system anchor folder: gatehouse-<8 hex>.crt (Debian) or .pem
 * (Fedora). Exactly that form: a file someone else named gatehouse-something is not ours to remove.
 */
const ANCHOR_FILE = /^gatehouse-[0-9a-f]{8}\.(crt|pem)$/;

/** What a plan depends on, injectable so tests can build other platforms' plans and use temp folders. */
export interface TrustEnvironment {
  /** Default process.platform. */
  platform?: NodeJS.Platform;
  /** The user's home folder (NSS databases, Firefox profiles, the macOS login keychain); default os.homedir(). */
  homeDir?: string;
  /** Whether this process runs as root, so Linux system-store steps need no pkexec; default from getuid(). */
  isRoot?: boolean;
  /**
   * A program a step runs (pkexec, the system-store tools, certutil, security, mkdir): its absolute
   * path, or null when it is not installed. Default a search of /usr/sbin, /usr/bin, /sbin and /bin
   * only (Windows: System32), never PATH, whose folders a user may write to.
   */
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
    findTool: env.findTool ?? findSystemTool,
    check: env.check ?? ((command) => runCommand(command, STATUS_TIMEOUT_MS)),
    stores: { ...DEFAULT_STORE_FOLDERS, ...env.stores },
  };
}

/** What a plan is built from: the CA's public facts, its PEM included. */
export interface TrustedCa {
  info: LocalCaInfo;
}

/** The CA's file name in the private folder the install steps read it from. */
function caFileName(info: LocalCaInfo): string {
  return `gatehouse-local-ca-${shortFingerprint(info)}.pem`;
}

/** The CA file as the plan shown beforehand names it: the run-time folder's form (see the header). */
export function shownCaFile(info: LocalCaInfo): string {
  return join(tmpdir(), SHOWN_CA_FOLDER, caFileName(info));
}

/** Collects one platform's plan; a store's tool that is missing becomes a line of the problem. */
class PlanBuilder {
  readonly install: TrustStep[] = [];
  readonly uninstall: TrustStep[] = [];
  readonly installed: TrustPlan['installed'] = [];
  readonly missing: string[] = [];

  /**
   * A store: whether it holds the current CA now, its install steps, its uninstall steps (the caller
   * leaves out what surely is not there), and the earlier Gatehouse CAs it still holds.
   */
  store(store: string, trusted: boolean | null, install: [string[], boolean][], uninstall: [string[], boolean][], earlier: string[] = []): void {
    this.installed.push({ store, trusted }, ...earlier.map((name) => ({ store: `${store}: earlier Gatehouse CA ${name}`, trusted: true })));
    this.install.push(...install.map(([command, needsAdmin]) => ({ store, command, needsAdmin })));
    this.uninstall.push(...uninstall.map(([command, needsAdmin]) => ({ store, command, needsAdmin })));
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
 * and runs only status checks that never prompt. The install steps name `caFile`: by default the
 * placeholder of shownCaFile, which runTrustPlan replaces with the file it makes.
 */
export async function trustPlan(ca: TrustedCa, env: TrustEnvironment = {}, caFile = shownCaFile(ca.info)): Promise<TrustPlan> {
  const resolved = resolveEnvironment(env);
  const builder = new PlanBuilder();
  const subject = { info: ca.info, file: caFile };
  switch (resolved.platform) {
    case 'linux':
      await planLinuxSystem(subject, resolved, builder);
      await planNss(subject, resolved, builder);
      break;
    case 'darwin':
      await planMacos(subject, resolved, builder);
      break;
    case 'win32':
      await planWindows(subject, resolved, builder);
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

/**
 * Runs one side of the plan and returns what each step did, with the plan afterwards. Installing
 * writes the CA held in memory to a fresh private folder first and installs from there (see the
 * header); the folder is removed whatever happens.
 */
export async function runTrustPlan(ca: TrustedCa, side: 'install' | 'uninstall', env: TrustEnvironment = {}, limits: RunLimits = {}): Promise<TrustResult> {
  let steps: TrustResult['steps'];
  if (side === 'uninstall') {
    steps = await runTrustSteps((await trustPlan(ca, env)).uninstall, limits);
  } else {
    const dir = await fs.mkdtemp(join(tmpdir(), 'gatehouse-trust-'));
    try {
      await fs.chmod(dir, 0o700); // mkdtemp makes it 0700 already; said here, since it matters
      const file = join(dir, caFileName(ca.info));
      await fs.writeFile(file, ca.info.certificatePem, { mode: 0o644, flag: 'wx' });
      steps = await runTrustSteps((await trustPlan(ca, env, file)).install, limits);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
  return { steps, plan: await trustPlan(ca, env) };
}

interface PlannedCa {
  info: LocalCaInfo;
  /** The file the install steps read. */
  file: string;
}

/** The first 8 hex digits of the fingerprint: names the file and nickname, so two CAs never collide. */
function shortFingerprint(info: LocalCaInfo): string {
  return info.fingerprintSha256.replace(/:/g, '').slice(0, 8).toLowerCase();
}

async function planLinuxSystem(ca: PlannedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  // Every program here runs as root (through pkexec, or because Gatehouse does): system folders only.
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
  const folder = debianTool ? env.stores.debianLocalCerts : env.stores.fedoraAnchors;
  const fileName = debianTool ? `gatehouse-${fp8}.crt` : `gatehouse-${fp8}.pem`;
  const target = join(folder, fileName);
  const present = await anchorFiles(folder);
  const earlier = present.filter((name) => name !== fileName);
  const update = debianTool ? [debianTool, ...env.stores.debianUpdateArgs] : [fedoraTool!, 'extract', ...env.stores.fedoraUpdateArgs];
  // Debian leaves the removed CA's links behind unless told to rebuild them all (--fresh).
  const updateAfterRemoval = debianTool ? [debianTool, '--fresh', ...env.stores.debianUpdateArgs] : update;
  builder.store(
    `System certificates (${debianTool ? 'update-ca-certificates' : 'update-ca-trust'})`,
    present.includes(fileName),
    [admin([install, '-m', '0644', ca.file, target]), admin(update)],
    present.length > 0 ? [admin([remove, '-f', ...present.map((name) => join(folder, name))]), admin(updateAfterRemoval)] : [],
    earlier,
  );
}

/** Gatehouse's files in a system anchor folder, current CA's and earlier ones', sorted. */
async function anchorFiles(folder: string): Promise<string[]> {
  try {
    return (await fs.readdir(folder)).filter((name) => ANCHOR_FILE.test(name)).sort();
  } catch {
    return [];
  }
}

/** Chromium and Chrome read ~/.pki/nssdb on Linux; every Firefox profile has a database of its own. */
async function planNss(ca: PlannedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  const certutil = await env.findTool('certutil');
  if (!certutil) {
    builder.missing.push('certutil in /usr/bin (package libnss3-tools, or nss-tools on Fedora) for Chromium, Chrome and Firefox');
    return;
  }
  const mkdir = await env.findTool('mkdir');
  const nickname = `${NSS_NICKNAME_PREFIX} ${shortFingerprint(ca.info)}`;
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
    // Listing every nickname finds earlier Gatehouse CAs too. A listing that failed (a database
    // certutil cannot read) says nothing: unknown, and the removal is still offered.
    const listed = hasDatabase ? await env.check([certutil, '-d', db, '-L']) : { code: 0, output: '' };
    const nicknames = listed.code === 0 ? gatehouseNicknames(listed.output) : [];
    const trusted = listed.code === 0 ? nicknames.includes(nickname) : null;
    const earlier = nicknames.filter((name) => name !== nickname);
    const removals = [...(trusted === false ? [] : [nickname]), ...earlier];
    builder.store(
      store,
      trusted,
      [...create, [[certutil, '-d', db, '-A', '-t', 'C,,', '-n', nickname, '-i', ca.file], false]],
      removals.map((name): [string[], boolean] => [[certutil, '-d', db, '-D', '-n', name], false]),
      earlier.map((name) => name.slice(NSS_NICKNAME_PREFIX.length).trim() || name),
    );
  }
}

/** The Gatehouse nicknames in `certutil -L` output: each line is the nickname, spaces, the trust flags ("C,,"). */
export function gatehouseNicknames(listing: string): string[] {
  const names: string[] = [];
  for (const line of listing.split(/\r?\n/)) {
    const nickname = line.replace(/\s+[a-zA-Z]*,[a-zA-Z]*,[a-zA-Z]*\s*$/, '').trim();
    if (nickname !== line.trim() && nickname.startsWith(NSS_NICKNAME_PREFIX)) names.push(nickname);
  }
  return [...new Set(names)];
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

async function planMacos(ca: PlannedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  const security = await env.findTool('security');
  if (!security) {
    builder.missing.push('the security command (part of macOS, in /usr/bin)');
    return;
  }
  const keychain = join(env.homeDir, 'Library', 'Keychains', 'login.keychain-db');
  const sha1 = new X509Certificate(ca.info.certificatePem).fingerprint.replace(/:/g, '');
  // Listing certificates never prompts; whether the trust setting is still "Always Trust" cannot be read without one.
  const listed = await env.check([security, 'find-certificate', '-a', '-c', NSS_NICKNAME_PREFIX, '-Z', keychain]);
  const hashes = listed.code === 0 ? [...new Set([...listed.output.toUpperCase().matchAll(/SHA-1 HASH: ([0-9A-F]{40})/g)].map((match) => match[1]!))] : [];
  const trusted = listed.code === null ? null : hashes.includes(sha1);
  const earlier = hashes.filter((hash) => hash !== sha1);
  builder.store(
    'macOS login keychain',
    trusted,
    // add-trusted-cert asks for the login password to change the trust settings.
    [[[security, 'add-trusted-cert', '-r', 'trustRoot', '-k', keychain, ca.file], true]],
    // -t removes the trust setting with the certificate (else it lingers); that asks for the password too.
    [...(trusted === false ? [] : [sha1]), ...earlier].map((hash): [string[], boolean] => [[security, 'delete-certificate', '-t', '-Z', hash, keychain], true]),
    earlier.map((hash) => `SHA-1 ${hash}`),
  );
}

async function planWindows(ca: PlannedCa, env: ResolvedEnvironment, builder: PlanBuilder): Promise<void> {
  const certutil = await env.findTool('certutil');
  if (!certutil) {
    builder.missing.push('certutil.exe (part of Windows, in System32)');
    return;
  }
  const serial = new X509Certificate(ca.info.certificatePem).serialNumber.toLowerCase();
  const listed = await env.check([certutil, '-user', '-store', 'Root', serial]);
  const trusted = listed.code === null ? null : listed.code === 0;
  builder.store(
    'Windows certificates (current user, Trusted Root)',
    trusted,
    // The current user's Root store needs no administrator; Windows shows its own confirmation dialog.
    [[[certutil, '-user', '-addstore', 'Root', ca.file], false]],
    trusted === false ? [] : [[[certutil, '-user', '-delstore', 'Root', serial], false]],
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
