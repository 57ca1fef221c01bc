// Which launches of the desktop executable are CLI commands (src-main/electron/launch-mode.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliArguments, runAsNodeEnv } from '../../src-main/electron/launch-mode.js';

describe('cliArguments', () => {
  it('hands `gatehouse serve …` to the CLI, packaged and in development', () => {
    assert.deepEqual(cliArguments(['/opt/Gatehouse/gatehouse', 'serve', '--http-port', '8080'], true), ['serve', '--http-port', '8080']);
    assert.deepEqual(cliArguments(['/src/node_modules/electron/dist/electron', '/src', 'serve'], false), ['serve']);
  });

  it('opens the app for anything else: no arguments, --hidden, Chromium switches, a file', () => {
    for (const argv of [
      ['/opt/Gatehouse/gatehouse'],
      ['/opt/Gatehouse/gatehouse', '--hidden'],
      ['/opt/Gatehouse/gatehouse', '--no-sandbox', 'serve'],
      ['/opt/Gatehouse/gatehouse', 'server'],
    ]) {
      assert.equal(cliArguments(argv, true), null, argv.join(' '));
    }
    assert.equal(cliArguments(['/src/node_modules/electron/dist/electron', '/src'], false), null, 'the app directory is not a command');
  });
});

describe('runAsNodeEnv', () => {
  it('keeps the environment and adds ELECTRON_RUN_AS_NODE', () => {
    const env = runAsNodeEnv({ HOME: '/home/me', PATH: '/usr/bin' });
    assert.deepEqual(env, { HOME: '/home/me', PATH: '/usr/bin', ELECTRON_RUN_AS_NODE: '1' });
  });
});
