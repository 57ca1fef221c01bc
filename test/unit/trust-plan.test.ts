// The "Trust on this machine" plan for each platform, built with an injected environment and
// compared command by command: macOS and Windows cannot run here, and on Linux this covers what
// the real run (test/integration/trust-store-linux.test.ts) does not: pkexec when not root, the
// Fedora family, Firefox profiles, and the clear problem when a tool is missing.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LocalCa } from '../../src-main/core/certs/local-ca.js';
import { needTools } from '../helpers/tools.js';
import { gatehouseNicknames, shownCaFile, trustPlan, type CommandOutcome, type TrustEnvironment } from '../../src-main/core/certs/trust-store.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-trust-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A CA and the names the plan derives from it. */
async function caFor(t: TestContext) {
  const dir = await tempDir(t);
  const ca = await LocalCa.open(dir);
  const x509 = new X509Certificate(ca.info.certificatePem);
  return {
    ca: { info: ca.info },
    // The plan shown names the private copy made at run time, in the form of its folder.
    certPath: shownCaFile(ca.info),
    fp8: ca.info.fingerprintSha256.replace(/:/g, '').slice(0, 8).toLowerCase(),
    sha1: x509.fingerprint.replace(/:/g, ''),
    serial: x509.serialNumber.toLowerCase(),
  };
}

/** Tools found at /opt/tools/NAME, except those listed as missing; every check answers `answer`. */
function environment(overrides: TrustEnvironment & { missing?: string[]; answer?: (command: string[]) => CommandOutcome }): TrustEnvironment {
  const findTool = async (name: string) => (overrides.missing?.includes(name) ? null : `/opt/tools/${name}`);
  return {
    findTool,
    check: async (command) => (overrides.answer ? overrides.answer(command) : { code: 1, output: '' }),
    ...overrides,
  };
}

test('the CA file the plan shows is a private copy in the OS temp folder, not ca.pem', async (t) => {
  const { ca, certPath, fp8 } = await caFor(t);
  assert.equal(certPath, join(tmpdir(), 'gatehouse-trust-XXXXXX', `gatehouse-local-ca-${fp8}.pem`));
  const plan = await trustPlan(ca, environment({ platform: 'darwin', homeDir: '/Users/ana' }), '/tmp/gatehouse-trust-a1B2c3/x.pem');
  assert.equal(plan.install[0]!.command.at(-1), '/tmp/gatehouse-trust-a1B2c3/x.pem', 'runTrustPlan builds it with the file it made');
});

test('macOS: add-trusted-cert into the login keychain, delete by SHA-1 with its trust setting, status from find-certificate', async (t) => {
  const { ca, certPath, sha1 } = await caFor(t);
  const keychain = '/Users/ana/Library/Keychains/login.keychain-db';
  const seen: string[][] = [];
  const listing = (trusted: boolean) =>
    environment({
      platform: 'darwin',
      homeDir: '/Users/ana',
      answer: (command) => {
        seen.push(command);
        return { code: 0, output: trusted ? `SHA-1 hash: ${sha1}\n"labl"<blob>="Gatehouse local CA (mac)"` : '' };
      },
    });
  const plan = await trustPlan(ca, listing(true));
  assert.deepEqual(seen[0], ['/opt/tools/security', 'find-certificate', '-a', '-c', 'Gatehouse local CA', '-Z', keychain]);
  assert.deepEqual(plan, {
    platform: 'darwin',
    supported: true,
    install: [
      { store: 'macOS login keychain', command: ['/opt/tools/security', 'add-trusted-cert', '-r', 'trustRoot', '-k', keychain, certPath], needsAdmin: true },
    ],
    uninstall: [{ store: 'macOS login keychain', command: ['/opt/tools/security', 'delete-certificate', '-t', '-Z', sha1, keychain], needsAdmin: true }],
    installed: [{ store: 'macOS login keychain', trusted: true }],
    problem: null,
  });
  const notThere = await trustPlan(ca, listing(false));
  assert.deepEqual(notThere.installed, [{ store: 'macOS login keychain', trusted: false }]);
  assert.deepEqual(notThere.uninstall, [], 'nothing to remove');
  const unknown = await trustPlan(ca, environment({ platform: 'darwin', homeDir: '/Users/ana', answer: () => ({ code: null, output: 'security was not found.' }) }));
  assert.deepEqual(unknown.installed, [{ store: 'macOS login keychain', trusted: null }]);
  assert.equal(unknown.uninstall.length, 1, 'unknown status still offers the removal');

  const earlierSha1 = 'AB'.repeat(20);
  const withEarlier = await trustPlan(
    ca,
    environment({ platform: 'darwin', homeDir: '/Users/ana', answer: () => ({ code: 0, output: `SHA-256 hash: ${'CD'.repeat(32)}\nSHA-1 hash: ${earlierSha1}\n"labl"<blob>="Gatehouse local CA (old)"` }) }),
  );
  assert.deepEqual(withEarlier.installed, [
    { store: 'macOS login keychain', trusted: false },
    { store: `macOS login keychain: earlier Gatehouse CA SHA-1 ${earlierSha1}`, trusted: true },
  ]);
  assert.deepEqual(withEarlier.uninstall.map((step) => step.command), [['/opt/tools/security', 'delete-certificate', '-t', '-Z', earlierSha1, keychain]]);
});

test('Windows: certutil -user on the Root store, removal and status by serial number', async (t) => {
  const { ca, certPath, serial } = await caFor(t);
  const certutil = 'C:\\Windows\\System32\\certutil.exe';
  const env = (code: number | null): TrustEnvironment => ({
    platform: 'win32',
    homeDir: 'C:\\Users\\ana',
    findTool: async (name) => (name === 'certutil' ? certutil : null),
    check: async (command) => {
      assert.deepEqual(command, [certutil, '-user', '-store', 'Root', serial]);
      return { code, output: '' };
    },
  });
  const store = 'Windows certificates (current user, Trusted Root)';
  assert.deepEqual(await trustPlan(ca, env(0)), {
    platform: 'win32',
    supported: true,
    install: [{ store, command: [certutil, '-user', '-addstore', 'Root', certPath], needsAdmin: false }],
    uninstall: [{ store, command: [certutil, '-user', '-delstore', 'Root', serial], needsAdmin: false }],
    installed: [{ store, trusted: true }],
    problem: null,
  });
  assert.deepEqual((await trustPlan(ca, env(0x80092004))).installed, [{ store, trusted: false }]);
  assert.deepEqual((await trustPlan(ca, env(null))).installed, [{ store, trusted: null }]);
});

test('Linux, not root, Debian family: every system step through pkexec; NSS created first; Firefox profiles found', async (t) => {
  const { ca, certPath, fp8 } = await caFor(t);
  const home = await tempDir(t);
  const firefox = join(home, '.mozilla', 'firefox');
  const snap = join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox');
  await mkdir(join(firefox, 'abcd.default-release'), { recursive: true });
  await writeFile(join(firefox, 'abcd.default-release', 'cert9.db'), '');
  await mkdir(join(snap, 'snp1.default'), { recursive: true });
  await writeFile(
    join(firefox, 'profiles.ini'),
    '[Install4F96D1932A9F858E]\nDefault=abcd.default-release\n\n[Profile1]\nName=gone\nIsRelative=1\nPath=missing.folder\n\n[Profile0]\nName=default-release\nIsRelative=1\nPath=abcd.default-release\nDefault=1\n\n[General]\nVersion=2\n',
  );
  await writeFile(join(snap, 'profiles.ini'), `[Profile0]\r\nName=default\r\nIsRelative=0\r\nPath=${join(snap, 'snp1.default')}\r\n`);

  const nick = `Gatehouse local CA ${fp8}`;
  const ffDb = `sql:${join(firefox, 'abcd.default-release')}`;
  const plan = await trustPlan(
    ca,
    environment({ platform: 'linux', homeDir: home, isRoot: false, answer: (command) => ({ code: 0, output: command[2] === ffDb ? `${nick}   C,,\n` : '' }) }),
  );
  const system = 'System certificates (update-ca-certificates)';
  const chromium = 'Chromium and Chrome (NSS)';
  const ff = 'Firefox profile default-release';
  const ffSnap = 'Firefox profile default (snap)';
  const target = `/usr/local/share/ca-certificates/gatehouse-${fp8}.crt`;
  const nssdb = join(home, '.pki', 'nssdb');
  const snapDb = `sql:${join(snap, 'snp1.default')}`;
  const c = '/opt/tools/certutil';
  const pk = '/opt/tools/pkexec';
  assert.deepEqual(plan.install, [
    { store: system, command: [pk, '/opt/tools/install', '-m', '0644', certPath, target], needsAdmin: true },
    { store: system, command: [pk, '/opt/tools/update-ca-certificates'], needsAdmin: true },
    { store: chromium, command: ['/opt/tools/mkdir', '-p', '-m', '0700', nssdb], needsAdmin: false },
    { store: chromium, command: [c, '-N', '-d', `sql:${nssdb}`, '--empty-password'], needsAdmin: false },
    { store: chromium, command: [c, '-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', nick, '-i', certPath], needsAdmin: false },
    { store: ff, command: [c, '-d', ffDb, '-A', '-t', 'C,,', '-n', nick, '-i', certPath], needsAdmin: false },
    { store: ffSnap, command: [c, '-N', '-d', snapDb, '--empty-password'], needsAdmin: false },
    { store: ffSnap, command: [c, '-d', snapDb, '-A', '-t', 'C,,', '-n', nick, '-i', certPath], needsAdmin: false },
  ]);
  assert.deepEqual(plan.installed, [
    { store: system, trusted: false },
    { store: chromium, trusted: false },
    { store: ff, trusted: true },
    { store: ffSnap, trusted: false },
  ]);
  assert.deepEqual(plan.uninstall, [{ store: ff, command: [c, '-d', ffDb, '-D', '-n', nick], needsAdmin: false }]);
  assert.equal(plan.supported, true);
  assert.equal(plan.problem, null);
});

test('Linux, Fedora family: the anchor folder and update-ca-trust extract; removal re-extracts', async (t) => {
  const { ca, certPath, fp8 } = await caFor(t);
  const anchors = await tempDir(t);
  const target = join(anchors, `gatehouse-${fp8}.pem`);
  await writeFile(target, ca.info.certificatePem);
  const plan = await trustPlan(
    ca,
    environment({ platform: 'linux', homeDir: await tempDir(t), isRoot: true, missing: ['update-ca-certificates'], stores: { fedoraAnchors: anchors } }),
  );
  const store = 'System certificates (update-ca-trust)';
  assert.deepEqual(plan.install.filter((step) => step.store === store), [
    { store, command: ['/opt/tools/install', '-m', '0644', certPath, target], needsAdmin: false },
    { store, command: ['/opt/tools/update-ca-trust', 'extract'], needsAdmin: false },
  ]);
  assert.deepEqual(plan.installed[0], { store, trusted: true }, 'the anchor file is present');
  assert.deepEqual(plan.uninstall.filter((step) => step.store === store), [
    { store, command: ['/opt/tools/rm', '-f', target], needsAdmin: false },
    { store, command: ['/opt/tools/update-ca-trust', 'extract'], needsAdmin: false },
  ]);
});

test('Linux: removal takes every Gatehouse CA, earlier ones replaced by a domain change too', async (t) => {
  const { ca, fp8 } = await caFor(t);
  const anchors = await tempDir(t);
  const home = await tempDir(t);
  const nssdb = join(home, '.pki', 'nssdb');
  await mkdir(nssdb, { recursive: true });
  await writeFile(join(nssdb, 'cert9.db'), '');
  // An earlier CA's file and nickname only: the current CA is trusted nowhere.
  for (const name of ['gatehouse-0ad0ca01.crt', 'other-ca.crt', 'gatehouse-notes.txt', 'gatehouse-mine.crt']) await writeFile(join(anchors, name), 'x');
  const listing = ['', 'Certificate Nickname                                         Trust Attributes', '                                                             SSL,S/MIME,JAR/XPI', '', 'Gatehouse local CA 0ad0ca01                                  C,,  ', 'Other thing                                                  ,,   ', ''].join('\n');
  const plan = await trustPlan(ca, environment({ platform: 'linux', homeDir: home, isRoot: false, stores: { debianLocalCerts: anchors }, answer: () => ({ code: 0, output: listing }) }));
  const system = 'System certificates (update-ca-certificates)';
  const chromium = 'Chromium and Chrome (NSS)';
  assert.deepEqual(plan.installed, [
    { store: system, trusted: false },
    { store: `${system}: earlier Gatehouse CA gatehouse-0ad0ca01.crt`, trusted: true },
    { store: chromium, trusted: false },
    { store: `${chromium}: earlier Gatehouse CA 0ad0ca01`, trusted: true },
  ]);
  const pk = '/opt/tools/pkexec';
  const c = '/opt/tools/certutil';
  assert.deepEqual(plan.uninstall, [
    { store: system, command: [pk, '/opt/tools/rm', '-f', join(anchors, 'gatehouse-0ad0ca01.crt')], needsAdmin: true },
    { store: system, command: [pk, '/opt/tools/update-ca-certificates', '--fresh'], needsAdmin: true },
    { store: chromium, command: [c, '-d', `sql:${nssdb}`, '-D', '-n', 'Gatehouse local CA 0ad0ca01'], needsAdmin: false },
  ]);

  // With the current one present too, both go in one rm and both nicknames are deleted.
  await writeFile(join(anchors, `gatehouse-${fp8}.crt`), 'x');
  const both = await trustPlan(ca, environment({ platform: 'linux', homeDir: home, isRoot: false, stores: { debianLocalCerts: anchors }, answer: () => ({ code: 0, output: `${listing}Gatehouse local CA ${fp8}    C,,\n` }) }));
  assert.deepEqual(both.uninstall.map((step) => step.command.slice(1)), [
    ['/opt/tools/rm', '-f', ...['gatehouse-0ad0ca01.crt', `gatehouse-${fp8}.crt`].sort().map((name) => join(anchors, name))],
    ['/opt/tools/update-ca-certificates', '--fresh'],
    ['-d', `sql:${nssdb}`, '-D', '-n', `Gatehouse local CA ${fp8}`],
    ['-d', `sql:${nssdb}`, '-D', '-n', 'Gatehouse local CA 0ad0ca01'],
  ]);
  assert.deepEqual(gatehouseNicknames(listing), ['Gatehouse local CA 0ad0ca01']);

  // A database certutil cannot list: unknown, and the current CA's removal is still offered.
  const unreadable = await trustPlan(ca, environment({ platform: 'linux', homeDir: home, isRoot: false, stores: { debianLocalCerts: anchors }, answer: () => ({ code: 255, output: 'SEC_ERROR_BAD_DATABASE' }) }));
  assert.deepEqual(unreadable.installed.find((entry) => entry.store === chromium), { store: chromium, trusted: null });
  assert.deepEqual(unreadable.uninstall.filter((step) => step.store === chromium).map((step) => step.command.at(-1)), [`Gatehouse local CA ${fp8}`]);
});

test('Linux without certutil or pkexec: not supported, and the problem names the packages', async (t) => {
  const { ca } = await caFor(t);
  const plan = await trustPlan(ca, environment({ platform: 'linux', homeDir: await tempDir(t), isRoot: false, missing: ['certutil', 'pkexec'] }));
  assert.equal(plan.supported, false);
  assert.equal(plan.problem?.code, 'trust_tool_missing');
  assert.match(plan.problem?.message ?? '', /certutil in \/usr\/bin \(package libnss3-tools, or nss-tools on Fedora\)/);
  assert.match(plan.problem?.message ?? '', /pkexec \(package pkexec/);
  assert.deepEqual(plan.install, [], 'no half plan for stores whose tools are missing');
});

test('another platform: not supported, pointing at the onboarding page', async (t) => {
  const { ca } = await caFor(t);
  const plan = await trustPlan(ca, environment({ platform: 'freebsd' }));
  assert.equal(plan.supported, false);
  assert.equal(plan.problem?.code, 'trust_platform_unsupported');
  assert.match(plan.problem?.fix ?? '', /\/ca/);
});

// The real lookup on this machine: Linux with certutil installed where the distributions put it.
const linuxLookup = process.platform !== 'linux' ? 'the system folders of Linux' : needTools(['/usr/bin/certutil', 'libnss3-tools']);

test('every program a step runs comes from the system folders, never from a folder on PATH', { skip: linuxLookup }, async (t) => {
  const { ca } = await caFor(t);
  // A folder first on PATH holding every program the plan may name, as a user could arrange.
  const planted = await tempDir(t);
  for (const name of ['pkexec', 'install', 'rm', 'update-ca-certificates', 'update-ca-trust', 'certutil', 'mkdir', 'security']) {
    await writeFile(join(planted, name), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  const path = process.env.PATH;
  process.env.PATH = `${planted}:${path ?? ''}`;
  t.after(() => {
    process.env.PATH = path;
  });
  for (const isRoot of [true, false]) {
    const plan = await trustPlan(ca, { platform: 'linux', homeDir: await tempDir(t), isRoot, check: async () => ({ code: 1, output: '' }) });
    const steps = [...plan.install, ...plan.uninstall];
    assert.ok(steps.some((step) => step.store.startsWith('Chromium')), 'certutil is installed here (/usr/bin), so NSS steps are planned');
    for (const step of steps) {
      assert.ok(!step.command.some((part) => part.startsWith(planted)), `${step.command.join(' ')} names nothing from PATH`);
      assert.match(step.command[0]!, /^\/(usr\/)?s?bin\//, step.command.join(' '));
    }
    const system = steps.filter((step) => step.store.startsWith('System certificates'));
    if (!isRoot && system.length > 0) assert.equal(system[0]!.command[0], '/usr/bin/pkexec');
  }
  // macOS' security: absent from a Linux machine's system folders, so missing, though PATH has one.
  const mac = await trustPlan(ca, { platform: 'darwin', homeDir: '/Users/ana', check: async () => ({ code: 1, output: '' }) });
  assert.deepEqual(mac.install, []);
  assert.match(mac.problem?.message ?? '', /the security command \(part of macOS, in \/usr\/bin\)/);
});
