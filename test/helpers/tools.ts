// Tests that need an outside program (curl, nginx, chromium…) ask here first. Locally a missing
// program skips the test with a note saying what to install; under CI=true a missing program fails
// it, because CI installs every tool in .ci/run and a suite that silently skips proves nothing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const found = new Map<string, string | null>();

/** The program's absolute path, or null when it is not installed. */
export function findTool(name: string): string | null {
  if (!found.has(name)) {
    if (name.startsWith('/')) found.set(name, existsSync(name) ? name : null);
    else {
      const which = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', name], { encoding: 'utf8' });
      found.set(name, which.status === 0 ? which.stdout.trim() : null);
    }
  }
  return found.get(name) ?? null;
}

/**
 * For `test(name, { skip: needTools('curl') }, fn)`: false when every tool is installed, otherwise a
 * skip reason naming the Debian package. Under CI=true a missing tool throws instead of skipping.
 */
export function needTools(...tools: (string | [tool: string, debianPackage: string])[]): string | false {
  const missing = tools
    .map((tool): [string, string] => (Array.isArray(tool) ? tool : [tool, tool]))
    .filter(([tool]) => !findTool(tool))
    .map(([tool, pkg]) => `${tool} (apt-get install ${pkg})`);
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`CI must install every tool the tests use: ${reason}`);
  return reason;
}
