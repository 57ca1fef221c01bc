// `npm start`: runs the desktop app with Electron's binary. The electron package fetches that
// binary from the internet on first use; where that cannot work (no network, a firewall, CI with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1) its own error is a stack trace about `fetch failed`. This tries
// the download once, and otherwise says plainly what is missing and that `npm run serve` runs
// Gatehouse without the window. Exits with Electron's exit code, or 1 when it could not start it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = join(root, 'node_modules', 'electron');

/** The binary's path inside electron's dist directory, as the package records it once installed. */
function recordedPath() {
  const file = join(electronDir, 'path.txt');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

/** The Electron executable, or null when it is not there; honours electron's own ELECTRON_OVERRIDE_DIST_PATH. */
function electronBinary() {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const recorded = recordedPath();
  if (override) {
    const path = join(override, recorded ?? (process.platform === 'win32' ? 'electron.exe' : 'electron'));
    return existsSync(path) ? path : null;
  }
  if (!recorded) return null;
  const path = join(electronDir, 'dist', recorded);
  return existsSync(path) ? path : null;
}

/** Runs electron's install script once; the first line of what it said when it failed, or null. */
function tryInstall() {
  const script = join(electronDir, 'install.js');
  if (!existsSync(script)) return 'the electron package is not installed (run npm install)';
  console.error('gatehouse: Electron\'s binary is missing; downloading it once…');
  const result = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'], timeout: 10 * 60_000 });
  if (result.status === 0) return null;
  const firstLine = (result.stderr ?? '').split('\n').find((line) => line.trim() !== '')?.trim();
  const cause = firstLine || (result.error ? result.error.message : `exit code ${result.status}`);
  return `the download failed (${cause})`;
}

function explain(reason) {
  console.error(
    [
      '',
      'gatehouse: npm start needs Electron\'s binary, and it is not on this machine.',
      `  Why: ${reason}.`,
      '  Electron downloads it from the internet on first use: check this machine\'s connection (or set',
      '  HTTPS_PROXY, or ELECTRON_MIRROR to a mirror you can reach), then run npm start again.',
      '',
      '  Gatehouse also runs without the desktop window, with its web UI on the admin port:',
      '      npm run serve',
      '',
    ].join('\n'),
  );
}

let binary = electronBinary();
if (!binary) {
  const reason = process.env.ELECTRON_SKIP_BINARY_DOWNLOAD
    ? 'ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it was not downloaded'
    : tryInstall() ?? (electronBinary() ? null : 'the download finished but no binary appeared');
  binary = electronBinary();
  if (!binary) {
    explain(reason ?? 'the download failed');
    process.exit(1);
  }
}

const child = spawn(binary, ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', windowsHide: false });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  explain(`${binary} could not be run (${error.message})`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
