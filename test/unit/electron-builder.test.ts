// electron-builder.yml, checked without producing installers (Electron and the packaging tools cannot
// be downloaded here): the configuration passes electron-builder's own schema, everything it names
// exists, and a real `electron-builder --dir` run over a stand-in Electron shows what app.asar holds:
// the built app, its assets and every runtime dependency, and no sources, tests or source maps.
// Needs `npm run build` first (npm test does it).
import { extractAll, extractFile, listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { Ajv } from 'ajv';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger } from 'builder-util';
import type { Configuration } from 'electron-builder';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  version: string;
  dependencies?: Record<string, string>;
};

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
}

/**
 * The runtime dependencies and everything they need, as package-lock.json paths
 * ("node_modules/undici", "node_modules/a/node_modules/b"), found the way Node resolves them: in the
 * requiring package's own node_modules first, then in each one above it. Optional ones are marked.
 */
function runtimeClosure(): Map<string, { optional: boolean; version: string | undefined }> {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const closure = new Map<string, { optional: boolean; version: string | undefined }>();
  const resolve = (from: string, name: string): string | null => {
    for (let dir = from; ; ) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (lock.packages[candidate]) return candidate;
      if (dir === '') return null;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up === -1 ? '' : dir.slice(0, up);
    }
  };
  const visit = (from: string, names: Record<string, string> | undefined, optional: boolean) => {
    for (const name of Object.keys(names ?? {})) {
      const path = resolve(from, name);
      if (path === null) {
        assert.ok(optional, `package-lock.json has no ${name}, which ${from || 'package.json'} needs`);
        continue;
      }
      const known = closure.get(path);
      if (known && (optional || !known.optional)) continue;
      closure.set(path, { optional: optional && (known?.optional ?? true), version: lock.packages[path]!.version });
      const entry = lock.packages[path]!;
      visit(path, entry.dependencies, optional);
      visit(path, entry.optionalDependencies, true);
    }
  };
  visit('', lock.packages['']?.dependencies, false);
  return closure;
}

/**
 * Where the packaged app holds the package that package-lock.json has at `lockPath`, found the way
 * Node would find it from its requirer: at the same path, or hoisted to a node_modules above it
 * (electron-builder hoists a nested `node_modules/axios/node_modules/agent-base` to the top when
 * nothing else claims that name there). It counts only with the very version the lock names; null
 * when the packaged tree has no such name@version on Node's path.
 */
function packagedPathOf(lockPath: string, version: string | undefined, has: (path: string) => boolean, versionAt: (path: string) => string | undefined): string | null {
  const cut = lockPath.lastIndexOf('node_modules/');
  const name = lockPath.slice(cut + 'node_modules/'.length);
  for (let dir = cut === 0 ? '' : lockPath.slice(0, cut - 1); ; ) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    // The first one on Node's path is the one Node loads: a wrong version there is a miss, not a reason to look further.
    if (has(candidate)) return versionAt(candidate) === version ? candidate : null;
    if (dir === '') return null;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up === -1 ? '' : dir.slice(0, up);
  }
}

let config: Configuration;

/**
 * Runtime dependencies that are data, not code, and the files of theirs Gatehouse reads: they are
 * packaged, and nothing else of their data (src-main/core/access/countries.ts).
 */
const DATA_PACKAGES: Record<string, string[]> = {
  'node_modules/@ip-location-db/geo-whois-asn-country-mmdb': ['geo-whois-asn-country.mmdb'],
};

/** The fuses as src-main/electron/SECURITY.md ("Fuses") explains them. */
const EXPECTED_FUSES = {
  runAsNode: true,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: true,
};
/** Each fuse's place on the wire (@electron/fuses, FuseV1Options). */
const FUSE_INDEX: Record<keyof typeof EXPECTED_FUSES, FuseV1Options> = {
  runAsNode: FuseV1Options.RunAsNode,
  enableCookieEncryption: FuseV1Options.EnableCookieEncryption,
  enableNodeOptionsEnvironmentVariable: FuseV1Options.EnableNodeOptionsEnvironmentVariable,
  enableNodeCliInspectArguments: FuseV1Options.EnableNodeCliInspectArguments,
  enableEmbeddedAsarIntegrityValidation: FuseV1Options.EnableEmbeddedAsarIntegrityValidation,
  onlyLoadAppFromAsar: FuseV1Options.OnlyLoadAppFromAsar,
  grantFileProtocolExtraPrivileges: FuseV1Options.GrantFileProtocolExtraPrivileges,
};
/** Where Electron's executable keeps its fuse wire: this marker, the wire version (1), its length, one byte per fuse. */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron 45's own settings ('1' on, '0' off), before packaging flips them. */
const ELECTRON_DEFAULT_WIRE = '10110001';

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

  it('sets the Electron fuses SECURITY.md lists, each a known fuse of electron-builder\'s schema', () => {
    const scheme = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as { definitions: Record<string, object>; properties: Record<string, object> };
    const validate = new Ajv({ allErrors: true, strict: false }).compile({ ...scheme.definitions.FuseOptionsV1, definitions: scheme.definitions });
    assert.ok(validate(config.electronFuses), JSON.stringify(validate.errors));
    assert.deepEqual(config.electronFuses, EXPECTED_FUSES);
    const security = readFileSync(join(root, 'src-main', 'electron', 'SECURITY.md'), 'utf8');
    for (const fuse of Object.keys(EXPECTED_FUSES)) assert.ok(security.includes(`| \`${fuse}\` |`), `SECURITY.md says why ${fuse} is set`);
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

  it('installs gatehouse-serve beside the executable it runs, and links it onto PATH', () => {
    const extra = ([] as unknown[]).concat(config.linux?.extraFiles ?? []) as { from: string; to: string }[];
    const serve = extra.find((file) => file.to === 'gatehouse-serve');
    assert.ok(serve, 'linux.extraFiles ships gatehouse-serve');
    const wrapper = readFileSync(join(root, serve.from), 'utf8');
    assert.ok(statSync(join(root, serve.from)).mode & 0o111, 'the wrapper is executable');
    assert.ok(wrapper.includes(`"$here/${config.linux?.executableName}"`), 'it runs the executable linux.executableName names');
    assert.match(wrapper, /^sub=serve$/m, 'it runs serve unless asked for set-password');
    assert.match(wrapper, /ELECTRON_RUN_AS_NODE=1 exec .*resources\/app\.asar\/bin\/gatehouse\.js" "\$sub" "\$@"/);
    const install = readFileSync(join(root, String(config.deb?.afterInstall)), 'utf8');
    assert.ok(install.includes(`ln -sf "$app_dir/gatehouse-serve" '/usr/bin/gatehouse-serve'`));
    const remove = readFileSync(join(root, String(config.deb?.afterRemove)), 'utf8');
    assert.ok(remove.includes(`rm -f '/usr/bin/gatehouse-serve'`));
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

    // A stand-in for the Electron download: electron-builder copies it and renames the binary. As
    // plain Node (ELECTRON_RUN_AS_NODE=1, what gatehouse-serve uses) it runs the script with this
    // Node, reading app.asar through an extracted copy where Electron would read inside the archive.
    const electronDist = join(work, 'electron');
    mkdirSync(join(electronDist, 'resources'), { recursive: true });
    writeFileSync(
      join(electronDist, 'electron'),
      [
        '#!/bin/sh',
        '[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo "stand-in Electron: runs only as Node" >&2; exit 3; }',
        'script=$(printf "%s" "$1" | sed "s#/resources/app\\.asar/#/resources/app.asar.extracted/#"); shift',
        `exec '${process.execPath}' "$script" "$@"`,
        // A fuse wire as Electron's executable carries one, for electron-builder to flip (never run).
        `# ${FUSE_SENTINEL}\x01\x08${ELECTRON_DEFAULT_WIRE}`,
        '',
      ].join('\n'),
    );
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

  /** The packaged files as the stand-in Electron reads them (see above). */
  const extracted = () => {
    const dir = `${asar}.extracted`;
    if (!existsSync(dir)) extractAll(asar, dir);
    return dir;
  };
  const serveWrapper = join(work, 'out', 'linux-unpacked', 'gatehouse-serve');

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

  it('holds the entry points: main process, preload, renderer, the gatehouse command and its CLI', () => {
    for (const file of [
      'dist/node/src-main/electron/main.js',
      'dist/node/src-main/electron/preload.cjs',
      'dist/renderer/index.html',
      'bin/gatehouse.js',
      'dist/node/src-main/headless/cli.js',
    ]) {
      assert.ok(entries.has(file), file);
    }
  });

  it('holds the window, notification and tray icons the main process loads, at both densities', () => {
    const files = ['assets/icons/256x256.png'];
    for (const state of ['running', 'stopped', 'error']) files.push(`assets/tray/${state}.png`, `assets/tray/${state}@2x.png`);
    for (const file of files) assert.ok(entries.has(file), file);
  });

  /** The packaged package at `lockPath` (or where Node finds it from there), with the lock's version; null when none. */
  const packagedAt = (lockPath: string, version: string | undefined) =>
    packagedPathOf(
      lockPath,
      version,
      (path) => entries.has(`${path}/package.json`),
      (path) => (JSON.parse(extractFile(asar, `${path}/package.json`).toString('utf8')) as { version?: string }).version,
    );

  it('holds every runtime dependency and everything they need (package-lock.json), with their code', () => {
    const closure = runtimeClosure();
    assert.ok(closure.size >= Object.keys(pkg.dependencies ?? {}).length && closure.size > 0);
    for (const [lockPath, { optional, version }] of closure) {
      if (optional) continue;
      const path = packagedAt(lockPath, version);
      assert.ok(path !== null, `${lockPath}@${version} is packaged where Node finds it`);
      if (lockPath in DATA_PACKAGES) continue;
      const code = [...entries].filter((entry) => entry.startsWith(`${path}/`) && /\.(c|m)?js$/.test(entry));
      assert.ok(code.length > 0, `${path}'s code is packaged`);
    }
  });

  it('holds the data of data-only packages: the combined country database, without its IPv4/IPv6 halves', () => {
    for (const [path, files] of Object.entries(DATA_PACKAGES)) {
      const packaged = [...entries].filter((entry) => entry.startsWith(`${path}/`)).map((entry) => entry.slice(path.length + 1));
      for (const file of files) assert.ok(packaged.includes(file), `${path}/${file} is packaged`);
      assert.deepEqual(packaged.filter((file) => file.endsWith('.mmdb') && !files.includes(file)), [], `only ${files.join(', ')} of ${path}'s databases`);
    }
    assert.ok(existsSync(join(root, 'node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv4.mmdb')), 'the halves exist, so leaving them out is a real choice');
  });

  it('reads the country database from the packaged files, with the packaged reader', async () => {
    const countries = pathToFileURL(join(extracted(), 'dist', 'node', 'src-main', 'core', 'access', 'countries.js')).href;
    const script = `const { CountryDatabase, countryDatabasePath } = await import(${JSON.stringify(countries)});
const db = new CountryDatabase(); await db.load();
console.log(JSON.stringify({ path: countryDatabasePath(), state: db.state, au: db.lookup('198.51.100.7'), license: db.info()?.license }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '' } });
    const seen = JSON.parse(stdout) as { path: string; state: string; au: string; license: string };
    assert.ok(seen.path.startsWith(`${asar}.extracted/node_modules/`), seen.path);
    assert.deepEqual({ ...seen, path: undefined }, { path: undefined, state: 'ready', au: 'AU', license: 'CC0-1.0' });
  });

  it('holds no package that is not a runtime dependency (no dev dependency, no stray node_modules)', () => {
    const closure = runtimeClosure();
    // Each packaged package must be where Node finds a runtime dependency of the lock's version.
    const runtime = new Set([...closure].map(([lockPath, { version }]) => packagedAt(lockPath, version)).filter((path) => path !== null));
    const packageRoot = /^node_modules\/(?:@[^/]+\/)?[^/@][^/]*(?:\/node_modules\/(?:@[^/]+\/)?[^/@][^/]*)*$/;
    const packaged = [...entries]
      .filter((entry) => entry.endsWith('/package.json'))
      .map((entry) => posix.dirname(entry))
      .filter((dir) => packageRoot.test(dir));
    assert.ok(packaged.length > 0);
    assert.deepEqual(packaged.filter((dir) => !runtime.has(dir)), []);
  });

  it('flips the fuses in the packaged executable as electron-builder.yml says', async () => {
    const wire = await getCurrentFuseWire(join(work, 'out', 'linux-unpacked', String(config.linux?.executableName)));
    assert.equal(wire.version, '1');
    for (const [fuse, on] of Object.entries(EXPECTED_FUSES)) {
      const index = FUSE_INDEX[fuse as keyof typeof EXPECTED_FUSES];
      assert.equal(String.fromCharCode(wire[index] as number), on ? '1' : '0', `${fuse} is ${on ? 'on' : 'off'}`);
    }
    // The one Electron default left alone.
    assert.equal(String.fromCharCode(wire[FuseV1Options.LoadBrowserProcessSpecificV8Snapshot] as number), '0');
  });

  it('runs gatehouse-serve from the packaged files (the stand-in runs them as Electron-as-Node would)', async () => {
    assert.ok(statSync(serveWrapper).mode & 0o111, 'gatehouse-serve is executable');
    extracted();
    const run = (args: string[]) => promisify(execFile)(serveWrapper, args, { env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal((await run(['--version'])).stdout.trim(), `gatehouse ${pkg.version}`);
    assert.match((await run(['--help'])).stdout, /--data-dir DIR/);
    assert.match((await run(['set-password', '--help'])).stdout, /Usage: gatehouse set-password/, 'the wrapper passes set-password through');
  });

  it('serves the web UI from inside the package with gatehouse-serve', async () => {
    const dataDir = mkdtempSync(join(work, 'serve-data-'));
    const child = spawn(serveWrapper, ['--data-dir', dataDir, '--http-port', '0', '--https-port', '0', '--admin-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      // serve.json appears once both servers listen (src-main/headless/serve.ts).
      const info = join(dataDir, 'serve.json');
      for (let i = 0; i < 200 && !existsSync(info) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(info), `gatehouse-serve did not start:\n${output}`);
      const { admin } = JSON.parse(readFileSync(info, 'utf8')) as { admin: { address: string; port: number } };
      const page = await fetch(`http://127.0.0.1:${admin.port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div id="app">/);
    } finally {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
      await exited;
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
