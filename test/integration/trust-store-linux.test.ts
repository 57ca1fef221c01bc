// "Trust on this machine" on Linux for real: HOME is a temp folder, so the NSS steps run the real
// certutil against a fresh database and a Firefox profile, and the Debian system-store steps run
// the real update-ca-certificates against temp folders (test/helpers/trust-stores.ts). openssl then
// verifies against the folder it built.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { LocalCa } from '../../src-main/core/certs/local-ca.js';
import { runTrustPlan, runTrustSteps, trustPlan, type TrustEnvironment } from '../../src-main/core/certs/trust-store.js';
import { openssl } from '../helpers/openssl.js';
import { findTool, needTools } from '../helpers/tools.js';
import { debianStore, tempDir } from '../helpers/trust-stores.js';

const LINUX_TOOLS = needTools(['certutil', 'libnss3-tools'], 'openssl', ['update-ca-certificates', 'ca-certificates']);
const skip = process.platform !== 'linux' ? 'Linux trust stores' : LINUX_TOOLS;

function run(program: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr });
    });
  });
}

test('install then uninstall for real: system store in temp folders, NSS for Chromium and a Firefox profile', { skip }, async (t) => {
  const ca = await LocalCa.open(await tempDir(t, 'ca'));
  const home = await tempDir(t, 'home');
  const profile = join(home, '.mozilla', 'firefox', 'x1y2.default-release');
  await mkdir(profile, { recursive: true });
  await writeFile(join(home, '.mozilla', 'firefox', 'profiles.ini'), '[Profile0]\nName=default-release\nIsRelative=1\nPath=x1y2.default-release\n');
  const certutil = findTool('certutil')!;
  assert.equal((await run(certutil, ['-N', '-d', `sql:${profile}`, '--empty-password'])).code, 0, 'a profile Firefox has run in');

  const store = await debianStore(t);
  // Root or not, the temp folders need no administrator: leave pkexec out.
  const env: TrustEnvironment = { platform: 'linux', homeDir: home, isRoot: true, stores: { debianLocalCerts: store.folders.local, debianUpdateArgs: store.args } };
  const fp8 = ca.info.fingerprintSha256.replace(/:/g, '').slice(0, 8).toLowerCase();
  const nickname = `Gatehouse local CA ${fp8}`;
  const nssdb = join(home, '.pki', 'nssdb');
  const target = join(store.folders.local, `gatehouse-${fp8}.crt`);
  const subject = { info: ca.info };
  const shown = join(tmpdir(), 'gatehouse-trust-XXXXXX', `gatehouse-local-ca-${fp8}.pem`);

  const before = await trustPlan(subject, env);
  assert.equal(before.supported, true, JSON.stringify(before.problem));
  assert.deepEqual(before.installed.map((entry) => entry.trusted), [false, false, false]);
  assert.deepEqual(before.uninstall, []);
  assert.deepEqual(
    before.install.map((step) => step.command.slice(1).join(' ')),
    [
      `-m 0644 ${shown} ${target}`,
      store.args.join(' '),
      `-p -m 0700 ${nssdb}`,
      `-N -d sql:${nssdb} --empty-password`,
      `-d sql:${nssdb} -A -t C,, -n ${nickname} -i ${shown}`,
      `-d sql:${profile} -A -t C,, -n ${nickname} -i ${shown}`,
    ],
  );
  const refused = await runTrustSteps(before.install.slice(0, 1));
  assert.deepEqual(refused.map((step) => [step.ok, step.output]), [[false, 'Not run: this is the plan as shown, whose CA file is made only when the plan runs (runTrustPlan).']]);

  // Whatever sits at ca.pem when the steps run is not what gets installed: the CA held in memory is.
  await writeFile(ca.files.certPath, await readFile(store.distroPath, 'utf8'));
  const { steps: installed, plan: during } = await runTrustPlan(subject, 'install', env);
  for (const step of installed) assert.equal(step.ok, true, `${step.command.join(' ')}: ${step.output}`);
  const used = installed[0]!.command[3]!;
  assert.equal(dirname(dirname(used)), tmpdir());
  assert.match(basename(dirname(used)), /^gatehouse-trust-[A-Za-z0-9]{6}$/, 'the form the plan shown names');
  assert.equal(basename(used), basename(shown));
  await assert.rejects(readdir(dirname(used)), { code: 'ENOENT' }, 'the private folder is removed afterwards');
  await writeFile(ca.files.certPath, ca.info.certificatePem);

  for (const db of [nssdb, profile]) {
    const listed = await run(certutil, ['-d', `sql:${db}`, '-L']);
    assert.match(listed.output, new RegExp(`${nickname}\\s+C,,`), `${db} lists the CA as a trusted issuer`);
  }
  assert.equal((await openssl('verify', '-CApath', store.folders.etc, ca.files.certPath)).code, 0, 'openssl trusts the CA through the hashed folder');
  assert.ok((await readFile(join(store.folders.etc, 'ca-certificates.crt'), 'utf8')).includes(ca.info.certificatePem.trim()), 'the bundle holds it');

  assert.deepEqual(during.installed.map((entry) => entry.trusted), [true, true, true]);
  assert.deepEqual(during.install.map((step) => step.command[1]), ['-m', ...store.args.slice(0, 1), '-d', '-d'], 'the databases exist now: nothing is created again');
  assert.deepEqual(
    during.uninstall.map((step) => step.command.slice(1).join(' ')),
    [`-f ${target}`, ['--fresh', ...store.args].join(' '), `-d sql:${nssdb} -D -n ${nickname}`, `-d sql:${profile} -D -n ${nickname}`],
  );

  const { steps: removed } = await runTrustPlan(subject, 'uninstall', env);
  for (const step of removed) assert.equal(step.ok, true, `${step.command.join(' ')}: ${step.output}`);
  for (const db of [nssdb, profile]) assert.notEqual((await run(certutil, ['-d', `sql:${db}`, '-L', '-n', nickname])).code, 0, `${db} no longer has it`);
  assert.notEqual((await openssl('verify', '-CApath', store.folders.etc, ca.files.certPath)).code, 0, 'openssl no longer trusts it');
  assert.equal((await openssl('verify', '-CApath', store.folders.etc, store.distroPath)).code, 0, 'the other CAs stay trusted');
  assert.ok(!(await readdir(store.folders.local)).includes(`gatehouse-${fp8}.crt`));

  const after = await trustPlan(subject, env);
  assert.deepEqual(after.installed.map((entry) => entry.trusted), [false, false, false]);
});

test('a failing step skips the rest of its store only, and says why', { skip }, async (t) => {
  const home = await tempDir(t, 'home');
  const certutil = findTool('certutil')!;
  const results = await runTrustSteps([
    { store: 'A', command: [certutil, '-d', `sql:${join(home, 'no-such-db')}`, '-L'], needsAdmin: false },
    { store: 'A', command: [certutil, '-N', '-d', `sql:${home}`, '--empty-password'], needsAdmin: false },
    { store: 'B', command: [certutil, '-N', '-d', `sql:${home}`, '--empty-password'], needsAdmin: false },
    { store: 'C', command: [join(home, 'not-a-program')], needsAdmin: false },
  ]);
  assert.deepEqual(results.map((step) => step.ok), [false, false, true, false]);
  assert.match(results[0]!.output, /SEC_ERROR_BAD_DATABASE/);
  assert.equal(results[1]!.output, 'Not run: an earlier step for this store failed.');
  assert.match(results[3]!.output, /not-a-program was not found\./);
});

test('a step that does not finish in time is stopped, and the result says so', { skip: needTools('sleep') }, async () => {
  const [result] = await runTrustSteps([{ store: 'slow', command: [findTool('sleep')!, '30'], needsAdmin: false }], { timeoutMs: 300 });
  assert.equal(result!.ok, false);
  assert.match(result!.output, /Stopped after 0 s without finishing\./);
});

test('after a domain change, removal takes the earlier CA too: its system file and its NSS nickname', { skip }, async (t) => {
  const dataDir = await tempDir(t, 'ca');
  const home = await tempDir(t, 'home');
  const store = await debianStore(t);
  const env: TrustEnvironment = { platform: 'linux', homeDir: home, isRoot: true, stores: { debianLocalCerts: store.folders.local, debianUpdateArgs: store.args } };
  const certutil = findTool('certutil')!;
  const nssdb = join(home, '.pki', 'nssdb');
  const fp8 = (info: { fingerprintSha256: string }) => info.fingerprintSha256.replace(/:/g, '').slice(0, 8).toLowerCase();

  const earlier = await LocalCa.open(dataDir);
  for (const step of (await runTrustPlan({ info: earlier.info }, 'install', env)).steps) assert.equal(step.ok, true, `${step.command.join(' ')}: ${step.output}`);
  const earlierPath = join(dataDir, 'earlier-ca.pem');
  await writeFile(earlierPath, earlier.info.certificatePem);
  assert.equal((await openssl('verify', '-CApath', store.folders.etc, earlierPath)).code, 0, 'the earlier CA is trusted');

  // The domain change: a new CA, whose own plan is all that the Certificates page offers from now on.
  const current = await LocalCa.replace(dataDir, { domains: ['home.example'], now: new Date() });
  assert.notEqual(fp8(current.info), fp8(earlier.info));
  const plan = await trustPlan({ info: current.info }, env);
  const system = 'System certificates (update-ca-certificates)';
  assert.deepEqual(plan.installed, [
    { store: system, trusted: false },
    { store: `${system}: earlier Gatehouse CA gatehouse-${fp8(earlier.info)}.crt`, trusted: true },
    { store: 'Chromium and Chrome (NSS)', trusted: false },
    { store: `Chromium and Chrome (NSS): earlier Gatehouse CA ${fp8(earlier.info)}`, trusted: true },
  ]);

  const { steps, plan: after } = await runTrustPlan({ info: current.info }, 'uninstall', env);
  for (const step of steps) assert.equal(step.ok, true, `${step.command.join(' ')}: ${step.output}`);
  assert.deepEqual(after.installed, [
    { store: system, trusted: false },
    { store: 'Chromium and Chrome (NSS)', trusted: false },
  ]);
  assert.deepEqual((await readdir(store.folders.local)).filter((name) => name.startsWith('gatehouse-')), []);
  assert.notEqual((await openssl('verify', '-CApath', store.folders.etc, earlierPath)).code, 0, 'openssl no longer trusts the earlier CA');
  assert.equal((await openssl('verify', '-CApath', store.folders.etc, store.distroPath)).code, 0, 'the other CAs stay trusted');
  assert.doesNotMatch((await run(certutil, ['-d', `sql:${nssdb}`, '-L'])).output, /Gatehouse local CA/);
});
