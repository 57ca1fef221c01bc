#!/usr/bin/env node
// The whole test suite, as the README and CI run it: build once (the headless and browser tests run
// the built app as a user would), then every test file under test/ with Node's test runner, ending
// with the line "N passed, N failed" that CI reads.
// Usage: npm test [-- FILE_OR_DIR ...]   (no arguments: every *.test.ts under test/)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) if (entry !== 'fixtures') collect(join(path, entry), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(relative(root, path));
  }
  return out;
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : ['test']).flatMap((target) => collect(target, []));
if (files.length === 0) {
  console.error('No test files found (looked for *.test.ts).');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// The strict typecheck (main, preload, renderer, tests, Svelte) is part of the suite: a type error
// fails CI like a failing test does.
if (!process.env.GATEHOUSE_TEST_NO_BUILD) {
  for (const [script, failure] of [
    ['build', 'The build failed, so no test ran.'],
    ['typecheck', 'The typecheck failed (npm run typecheck), so no test ran.'],
  ]) {
    const step = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit' });
    if (step.status !== 0) {
      console.error(failure);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
  }
}

const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    `--test-concurrency=${process.env.GATEHOUSE_TEST_CONCURRENCY ?? 2}`,
    '--test-timeout=300000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/test-summary-reporter.mjs', '--test-reporter-destination=stdout',
    ...files,
  ],
  // Tests run on the host network, where multicast DNS would leave the machine (RECIPES.md): every
  // gateway a test starts has mDNS off, and the tests that need it turn it on inside a namespace.
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', GATEHOUSE_MDNS: 'off' } },
);
process.exit(result.status ?? 1);
