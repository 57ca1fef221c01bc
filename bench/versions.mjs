// Versions of the programs a run used, for the printed header and the JSON record.
import { spawnSync } from 'node:child_process';

const PROBES = {
  wrk: ['--version', /wrk (\S+)/],
  nginx: ['-v', /nginx\/(\S+)/],
  caddy: ['version', /^v?(\S+)/],
  haproxy: ['-v', /version (\S+)/],
};

/** name → version string for each installed tool that has one, plus node. */
export function toolVersions(tools) {
  const versions = { node: process.version };
  for (const [name, [flag, pattern]] of Object.entries(PROBES)) {
    if (!tools[name]) continue;
    const result = spawnSync(tools[name], [flag], { encoding: 'utf8', timeout: 5000 });
    const match = pattern.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`.trim());
    versions[name] = match ? match[1] : 'unknown';
  }
  return versions;
}
