// Versions of the programs a run used, for the printed header and the JSON record.
import { spawnSync } from 'node:child_process';

const PROBES = {
  wrk: ['--version', /wrk (\S+)/],
  h2load: ['--version', /nghttp2\/(\S+)/],
  nginx: ['-v', /nginx\/(\S+)/],
  caddy: ['version', /^v?(\S+)/],
  haproxy: ['-v', /version (\S+)/],
  openssl: ['version', /OpenSSL (\S+)/], // the system's: nginx, HAProxy and the load tools use it
};

/** name → version string for each installed tool that has one, plus node. */
export function toolVersions(tools) {
  // Node's TLS (Gatehouse, the bare forwarder) is its bundled OpenSSL; Caddy's is Go's crypto/tls.
  const versions = { node: process.version, 'node-openssl': process.versions.openssl };
  for (const [name, [flag, pattern]] of Object.entries(PROBES)) {
    if (!tools[name]) continue;
    const result = spawnSync(tools[name], [flag], { encoding: 'utf8', timeout: 5000 });
    const match = pattern.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`.trim());
    versions[name] = match ? match[1] : 'unknown';
  }
  return versions;
}
