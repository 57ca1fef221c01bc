// `npm install && npm start` must open the app on a user's machine, while CI here installs without
// the Electron binary (it cannot be downloaded here; .ci/run sets ELECTRON_SKIP_BINARY_DOWNLOAD=1).
// Electron 45's package has no install script: its `electron` command downloads the binary on first
// use. This guards that arrangement, so an Electron upgrade that changes it fails here rather than
// on a user's first `npm start`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as Record<string, unknown>;

describe('npm start', () => {
  it('builds the app, then runs Electron on it', () => {
    const scripts = readJson('package.json').scripts as Record<string, string>;
    assert.match(scripts.prestart ?? '', /\bnpm run build\b/);
    assert.equal(scripts.start, 'electron .');
  });

  it('gets the Electron binary either from an allowed install script or on the first `electron` run', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
    const entry = lock.packages['node_modules/electron'];
    assert.ok(entry, 'electron is in package-lock.json');
    if (entry.hasInstallScript) {
      // npm skips dependency install scripts it was not told to allow: the project must allow this one.
      const npmrc = existsSync(join(root, '.npmrc')) ? readFileSync(join(root, '.npmrc'), 'utf8') : '';
      const allowScripts = readJson('package.json').allowScripts as Record<string, unknown> | undefined;
      assert.ok(/^allow-scripts\s*=.*\belectron\b/m.test(npmrc) || allowScripts?.electron === true, 'allow electron’s install script');
    } else {
      // The command resolves its binary through index.js, which runs install.js when it is missing.
      const index = readFileSync(join(root, 'node_modules', 'electron', 'index.js'), 'utf8');
      assert.match(index, /install\.js/, 'electron’s index.js downloads a missing binary');
      const cli = readFileSync(join(root, 'node_modules', 'electron', 'cli.js'), 'utf8');
      assert.match(cli, /require\('\.\/'\)/, 'the electron command goes through index.js');
    }
  });
});
