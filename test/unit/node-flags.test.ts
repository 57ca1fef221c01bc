// The `gatehouse` command runs Node with V8 flags chosen by measurement (docs/performance.md): the
// first line of bin/gatehouse.js carries them, and `npm run serve` and the bench must start Node
// the same way, or the bench would measure a Gatehouse nobody runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shebang = readFileSync(join(root, 'bin', 'gatehouse.js'), 'utf8').split('\n')[0] as string;
/** The flags the first line gives node. */
const flags = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(shebang)?.[1]?.trim().split(' ') ?? [];

test('bin/gatehouse.js sizes V8\'s helper threads to the CPUs it may use', () => {
  assert.ok(flags.includes('--v8-pool-size=0'), `first line: ${shebang}`);
});

test('npm run serve passes node the same flags as the command itself', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.serve, `node ${flags.join(' ')} bin/gatehouse.js serve`);
});

test('the bench starts gatehouse serve with the same flags', async () => {
  const { GATEHOUSE_NODE_FLAGS } = (await import(join(root, 'bench', 'gatehouse.mjs'))) as { GATEHOUSE_NODE_FLAGS: string[] };
  assert.deepEqual(GATEHOUSE_NODE_FLAGS, flags);
});

test('node accepts the flags (a typo would stop the command from starting at all)', () => {
  const out = execFileSync(process.execPath, [...flags, '-e', 'process.stdout.write(String(require("node:v8").getHeapSpaceStatistics().length > 0))'], { encoding: 'utf8' });
  assert.equal(out, 'true');
});
