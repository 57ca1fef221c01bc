// `gatehouse set-password` at a real terminal (a pseudo-terminal made by util-linux's `script`):
// it asks twice, shows neither password, refuses two that differ, and stores the hash.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { binPath, makeDataDir, repoRoot } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';

/** Runs set-password on a pty, typing each answer once its prompt has appeared. */
async function atTerminal(dataDir: string, answers: string[]): Promise<{ code: number | null; screen: string }> {
  const command = `${process.execPath} ${binPath} set-password --data-dir ${dataDir}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let screen = '';
  const prompts = ['New admin password: ', 'The same again: '];
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    screen += text;
    while (answers.length > 0 && screen.includes(prompts[prompts.length - answers.length]!)) child.stdin.write(`${answers.shift()}\r`);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code, screen };
}

test('set-password at a terminal asks twice and shows nothing typed', { skip: needTools(['script', 'bsdutils']) }, async () => {
  const dataDir = await makeDataDir();
  try {
    const differ = await atTerminal(dataDir, ['first pass phrase', 'second pass phrase']);
    assert.equal(differ.code, 1, differ.screen);
    assert.match(differ.screen, /the two passwords differ; nothing changed/);
    assert.doesNotMatch(differ.screen, /pass phrase/, 'no echo');

    const same = await atTerminal(dataDir, ['my terminal pass phrase', 'my terminal pass phrase']);
    assert.equal(same.code, 0, same.screen);
    assert.match(same.screen, /New admin password: [\s\S]*The same again: [\s\S]*The admin password is set/);
    assert.doesNotMatch(same.screen, /pass phrase/, 'no echo');
    const file = JSON.parse(await readFile(join(dataDir, 'admin-auth.json'), 'utf8'));
    assert.match(file.password.hash, /^\$argon2id\$/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
