// A healthy route finds nothing wrong, every part for real: run inside its own network and mount
// namespaces (test/fixtures/doctor/healthy-route.ts says how), so the system resolver really asks a
// dnsmasq for the name, the proxy really listens on a LAN address (10.88.0.1, a veth pair that
// exists only there), and the upstream really is (a fake) Jellyfin. Root only (unshare -nm).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorReport } from '../../shared/insight.js';
import { run, scenarioResult } from '../helpers/netns.js';
import { repoRoot } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';

const tools = needTools(['unshare', 'util-linux'], ['ip', 'iproute2'], ['/usr/sbin/dnsmasq', 'dnsmasq-base']);
const skip = tools || (process.getuid?.() === 0 ? false : process.env.CI === 'true' ? assert.fail('CI runs as root: the doctor\'s healthy-route test needs unshare -nm') : 'needs root (unshare -nm)');

test('a healthy route: every check passes, the verdict is ok', { skip, timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-doctor-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const resolvConf = join(dir, 'resolv.conf');
  await writeFile(resolvConf, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  const setup = [
    'ip link set lo up',
    'ip link add gh0 type veth peer name gh1',
    'ip addr add 10.88.0.1/24 dev gh0',
    'ip link set gh0 up',
    'ip link set gh1 up',
    `mount --bind ${resolvConf} /etc/resolv.conf`,
  ].join(' && ');
  const script = join(repoRoot, 'test', 'fixtures', 'doctor', 'healthy-route.ts');
  const result = await run(['unshare', '-nm', 'sh', '-c', `${setup} && exec "$@"`, 'sh', process.execPath, '--import', 'tsx', script], { timeoutMs: 50_000 });
  const { report, asked } = scenarioResult<{ report: DoctorReport; asked: boolean }>(result);
  const lines = report.checks.map((check) => `${check.state} ${check.id}: ${check.says}`).join('\n');
  assert.equal(report.verdict, 'ok', lines);
  assert.equal(report.summary, 'Every check passed: the route works from the name to the app.');
  assert.ok(asked, 'the system resolver asked dnsmasq');
  const byId = new Map(report.checks.map((check) => [check.id, check]));
  assert.match(byId.get('dns:jellyfin.home.arpa:system')?.says ?? '', /sends jellyfin\.home\.arpa to 10\.88\.0\.1: this machine/, lines);
  assert.match(byId.get('port:http')?.says ?? '', /answered on 10\.88\.0\.1:\d+/, lines);
  assert.equal(byId.get('certificate:skipped')?.state, 'skipped', 'plain HTTP: no certificate to check');
  assert.equal(byId.get('upstream:app')?.state, 'pass', lines);
  assert.match(byId.get('access:visitor')?.says ?? '', /10\.88\.0\.7 \(on this network\) would be let in/, lines);
  assert.equal(report.visitor, '10.88.0.7');
});
