// `npm install && npm start` must open the app on a user's machine, while CI here installs without
// the Electron binary (it cannot be downloaded here; .ci/run sets ELECTRON_SKIP_BINARY_DOWNLOAD=1).
// Electron 45's package has no install script: its `electron` command downloads the binary on first
// use. `npm start` runs scripts/start.mjs, which uses that binary when it is there, tries the
// download once when it is not, and otherwise says so plainly and points at `npm run serve`. This
// guards that arrangement, so an Electron upgrade that changes it fails here rather than on a
// user's first `npm start`; the launcher itself runs for real, with a binary that is missing and
// with a stand-in binary that is there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as Record<string, unknown>;

function runStart(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs'), ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

describe('npm start', () => {
  let empty: string;
  before(async () => {
    empty = await mkdtemp(join(tmpdir(), 'gh-start-'));
  });
  after(() => rm(empty, { recursive: true, force: true }));

  it('builds the app, then runs the launcher', () => {
    const scripts = readJson('package.json').scripts as Record<string, string>;
    assert.match(scripts.prestart ?? '', /\bnpm run build\b/);
    assert.equal(scripts.start, 'node scripts/start.mjs');
  });

  it('gets the Electron binary either from an allowed install script or on the first run', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
    const entry = lock.packages['node_modules/electron'];
    assert.ok(entry, 'electron is in package-lock.json');
    if (entry.hasInstallScript) {
      // npm skips dependency install scripts it was not told to allow: the project must allow this one.
      const npmrc = existsSync(join(root, '.npmrc')) ? readFileSync(join(root, '.npmrc'), 'utf8') : '';
      const allowScripts = readJson('package.json').allowScripts as Record<string, unknown> | undefined;
      assert.ok(/^allow-scripts\s*=.*\belectron\b/m.test(npmrc) || allowScripts?.electron === true, 'allow electron’s install script');
    }
    // The launcher finds the binary the way electron's index.js does (path.txt under dist/) and
    // downloads a missing one with the package's install.js.
    const index = readFileSync(join(root, 'node_modules', 'electron', 'index.js'), 'utf8');
    assert.match(index, /path\.txt/);
    assert.match(index, /'dist'/);
    assert.ok(existsSync(join(root, 'node_modules', 'electron', 'install.js')), 'electron ships install.js');
  });

  it('without the binary and with downloads turned off: says so, names npm run serve, exits 1, no stack', async () => {
    const result = await runStart({ ELECTRON_OVERRIDE_DIST_PATH: empty, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /npm start needs Electron's binary, and it is not on this machine\./);
    assert.match(result.stderr, /Why: ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it was not downloaded\./);
    assert.match(result.stderr, /^\s+npm run serve$/m);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  });

  it('without the binary, where the download cannot work: tries it once, then says why and names npm run serve', async () => {
    // A mirror on a closed local port: the download fails the same way with or without internet.
    const mirror = `http://127.0.0.1:${await freePort()}/`;
    const result = await runStart({ ELECTRON_OVERRIDE_DIST_PATH: empty, ELECTRON_SKIP_BINARY_DOWNLOAD: '', ELECTRON_MIRROR: mirror });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.match(/downloading it once/g)?.length, 1, result.stderr);
    assert.match(result.stderr, /Why: the download failed \(.+\)\./);
    assert.match(result.stderr, /^\s+npm run serve$/m);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
    assert.ok(result.ms < 30_000, `gave up in ${Math.round(result.ms)} ms`);
  });

  it('with the binary there: runs it on the app with the arguments given, and exits with its code', async () => {
    const dist = await mkdtemp(join(tmpdir(), 'gh-electron-'));
    try {
      const recorded = existsSync(join(root, 'node_modules', 'electron', 'path.txt')) ? readFileSync(join(root, 'node_modules', 'electron', 'path.txt'), 'utf8').trim() : 'electron';
      const fake = join(dist, recorded);
      await mkdir(dirname(fake), { recursive: true });
      await writeFile(fake, '#!/bin/sh\necho "electron-stand-in $*"\nexit 7\n');
      await chmod(fake, 0o755);
      const result = await runStart({ ELECTRON_OVERRIDE_DIST_PATH: dist }, ['--hidden']);
      assert.equal(result.stdout.trim(), 'electron-stand-in . --hidden');
      assert.equal(result.code, 7);
    } finally {
      await rm(dist, { recursive: true, force: true });
    }
  });
});
