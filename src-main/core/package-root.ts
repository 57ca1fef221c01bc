// Finds Gatehouse's own directory (the one with its package.json), from the built file in
// dist/node/src-main/core as well as from the source under tsx, for the version number (the API's
// getAppInfo, `gatehouse --version`) and the built renderer in dist/renderer.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function readManifest(dir: string): { name?: unknown; version?: unknown } | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return null;
  }
}

function findPackageRoot(): string {
  let firstWithManifest: string | null = null;
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      if (readManifest(dir)?.name === 'gatehouse') return dir;
      firstWithManifest ??= dir;
    }
    if (dirname(dir) === dir) break;
  }
  // No manifest named gatehouse: trust the layout (this file is src-main/core/ or dist/node/src-main/core/).
  return firstWithManifest ?? (here.includes(`${join('dist', 'node')}`) ? join(here, '..', '..', '..', '..') : join(here, '..', '..'));
}

let root: string | null = null;

/** Gatehouse's own directory. */
export function packageRoot(): string {
  return (root ??= findPackageRoot());
}

export function packageVersion(): string {
  const version = readManifest(packageRoot())?.version;
  return typeof version === 'string' ? version : 'unknown';
}

/** The web UI as `npm run build` leaves it. */
export function rendererDir(): string {
  return join(packageRoot(), 'dist', 'renderer');
}
