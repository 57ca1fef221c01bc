// electron-builder.yml, checked without producing installers (Electron and the packaging tools cannot
// be downloaded here): the configuration passes electron-builder's own schema, everything it names
// exists, and a real `electron-builder --dir` run over a stand-in Electron shows what app.asar holds:
// the built app, its assets and every runtime dependency, and no sources, tests or source maps.
// Needs `npm run build` first (npm test does it).
import { extractFile, listPackage } from '@electron/asar';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger } from 'builder-util';
import type { Configuration } from 'electron-builder';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  dependencies?: Record<string, string>;
};

let config: Configuration;

before(async () => {
  config = await getConfig(root, null, null);
});

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(path: string): [number, number] {
  const data = readFileSync(path);
  assert.equal(data.subarray(1, 4).toString('ascii'), 'PNG', `${path} is a PNG`);
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

describe('electron-builder.yml', () => {
  it('passes electron-builder’s own schema', async () => {
    await validateConfiguration(config, new DebugLogger(false));
  });

  it('names the app and its installers', () => {
    assert.equal(config.appId, 'org.gatehouse.app');
    assert.equal(config.productName, 'Gatehouse');
    assert.deepEqual(config.linux?.target, ['AppImage', 'deb']);
    assert.equal(config.win?.target, 'nsis');
    assert.equal(config.mac?.target, 'dmg');
  });

  it('points at icons that exist and are big enough for each platform', () => {
    const linuxIcons = join(root, String(config.linux?.icon));
    for (const size of [16, 32, 48, 64, 128, 256, 512]) {
      assert.deepEqual(pngSize(join(linuxIcons, `${size}x${size}.png`)), [size, size]);
    }
    const [macWidth] = pngSize(join(root, String(config.mac?.icon)));
    assert.ok(macWidth >= 512, 'macOS needs at least 512 px');
    const ico = readFileSync(join(root, String(config.win?.icon)));
    assert.deepEqual([...ico.subarray(0, 4)], [0, 0, 1, 0], 'the Windows icon is an ICO');
    assert.ok(ico.readUInt16LE(4) >= 4, 'with several sizes');
  });

  it('has tray icons for every proxy state at 16 and 32 px', () => {
    for (const state of ['running', 'stopped', 'error']) {
      assert.deepEqual(pngSize(join(root, 'assets', 'tray', `${state}.png`)), [16, 16]);
      assert.deepEqual(pngSize(join(root, 'assets', 'tray', `${state}@2x.png`)), [32, 32]);
    }
  });

  it('runs deb scripts that grant the port capability and use only macros electron-builder defines', async () => {
    const install = config.deb?.afterInstall;
    const remove = config.deb?.afterRemove;
    assert.ok(install && remove);
    const installScript = readFileSync(join(root, install), 'utf8');
    assert.match(installScript, /setcap 'cap_net_bind_service=\+ep' "\$app_bin"/);
    assert.ok(config.deb?.depends?.includes('libcap2-bin'), 'setcap is installed with the package');
    for (const script of [install, remove]) {
      const text = readFileSync(join(root, script), 'utf8');
      // FpmTarget replaces ${letters} and fails the build on any name it does not define.
      const macros = new Set([...text.matchAll(/\$\{([a-zA-Z]+)\}/g)].map((match) => match[1]));
      assert.deepEqual([...macros].sort(), ['executable', 'sanitizedProductName'], script);
      await promisify(execFile)('bash', ['-n', join(root, script)]);
    }
  });
});

describe('app.asar from `electron-builder --dir`', { skip: process.platform !== 'linux' && 'packs with a stand-in Linux Electron' }, () => {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-builder-'));
  const asar = join(work, 'out', 'linux-unpacked', 'resources', 'app.asar');
  let entries: Set<string>;

  before(async () => {
    const main = (config.extraMetadata?.main as string | undefined) ?? pkg.main;
    assert.ok(existsSync(join(root, main)), `${main} is missing: run \`npm run build\` first`);

    // A stand-in for the Electron download: electron-builder copies it and renames the binary.
    const electronDist = join(work, 'electron');
    mkdirSync(join(electronDist, 'resources'), { recursive: true });
    writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\n');
    chmodSync(join(electronDist, 'electron'), 0o755);
    for (const file of ['chrome-sandbox', 'LICENSE', 'LICENSES.chromium.html', 'libffmpeg.so']) writeFileSync(join(electronDist, file), '');

    const cli = require.resolve('electron-builder/cli.js');
    const arch = process.arch === 'arm64' ? '--arm64' : '--x64';
    try {
      await promisify(execFile)(
        process.execPath,
        [cli, '--linux', 'dir', arch, `-c.electronDist=${electronDist}`, `-c.directories.output=${join(work, 'out')}`],
        { cwd: root, env: { ...process.env, ELECTRON_BUILDER_CACHE: join(work, 'cache') }, maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`electron-builder failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
    }
    entries = new Set(listPackage(asar, { isPack: false }).map((entry) => entry.replaceAll('\\', '/').replace(/^\//, '')));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('holds the main process, the preload and the renderer, under the name package.json gives', () => {
    const packaged = JSON.parse(extractFile(asar, 'package.json').toString('utf8')) as { main: string };
    assert.ok(entries.has(packaged.main), `main ${packaged.main} is in app.asar`);
    assert.ok(entries.has('dist/node/src-main/electron/preload.cjs'));
    assert.ok(entries.has('dist/renderer/index.html'));
  });

  it('holds every file the built page loads, and the page carries its CSP', () => {
    const html = extractFile(asar, 'dist/renderer/index.html').toString('utf8');
    const referenced = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((match) => `dist/renderer/${match[1]}`);
    assert.ok(referenced.length >= 2, 'a script and a stylesheet');
    for (const file of referenced) assert.ok(entries.has(file), `${file} is in app.asar`);
    assert.match(html, /http-equiv="Content-Security-Policy"[^>]*default-src 'self'; script-src 'self'/);
  });

  it('holds the window and tray icons the main process loads', () => {
    for (const file of ['assets/icons/256x256.png', 'assets/tray/running.png', 'assets/tray/stopped@2x.png', 'assets/tray/error.png']) {
      assert.ok(entries.has(file), file);
    }
  });

  it('holds every runtime dependency of package.json', () => {
    const dependencies = Object.keys(pkg.dependencies ?? {});
    assert.ok(dependencies.length > 0);
    for (const name of dependencies) {
      assert.ok(entries.has(`node_modules/${name}/package.json`), `${name} is packaged`);
      const code = [...entries].filter((entry) => entry.startsWith(`node_modules/${name}/`) && /\.(c|m)?js$/.test(entry));
      assert.ok(code.length > 0, `${name}'s code is packaged`);
    }
  });

  it('matches something with every file pattern it includes', () => {
    // getConfig normalizes `files` to file sets; the patterns are their filters.
    const sets = ([] as unknown[]).concat(config.files ?? []);
    const all = sets.flatMap((set) => (typeof set === 'string' ? [set] : ([] as string[]).concat((set as { filter?: string | string[] }).filter ?? [])));
    const patterns = all.filter((pattern) => !pattern.startsWith('!'));
    assert.ok(patterns.length >= 4);
    for (const pattern of patterns) {
      const prefix = pattern.endsWith('/**') ? pattern.slice(0, -2) : pattern;
      assert.ok([...entries].some((entry) => entry === prefix || entry.startsWith(prefix)), `${pattern} matches a packaged file`);
    }
  });

  it('leaves out sources, tests, source maps, dev dependencies and build-only assets', () => {
    const unwanted = [...entries].filter(
      (entry) =>
        /^(src-main|src-renderer|shared|test|scripts|bench|docs)\//.test(entry) ||
        entry.endsWith('.map') ||
        (entry.endsWith('.ts') && !entry.startsWith('node_modules/')) ||
        entry.startsWith('assets/src') ||
        entry.startsWith('assets/linux') ||
        /^node_modules\/(electron|electron-builder|vite|svelte|typescript|esbuild)\//.test(entry),
    );
    assert.deepEqual(unwanted, []);
  });
});
