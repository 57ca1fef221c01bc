// At a terminal (a pseudo-terminal made by util-linux's `script`) serve prints the one-time link
// itself, as a person starting it by hand expects, and writes no once-link file; Ctrl+C stops it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { binPath, makeDataDir, repoRoot } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';

test('serve at a terminal prints the link and writes no file', { skip: needTools(['script', 'bsdutils']) }, async () => {
  const dataDir = await makeDataDir();
  const command = `${process.execPath} ${binPath} serve --data-dir ${dataDir} --http-port 0 --https-port 0 --admin-port 0`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let screen = '';
  const ready = new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      screen += text;
      if (screen.includes('Stop with Ctrl+C.')) resolve();
    });
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    await Promise.race([ready, closed.then(() => assert.fail(`serve ended early:\n${screen}`))]);
    assert.match(screen, /^Sign in: +open http:\/\/127\.0\.0\.1:\d+\/auth\/once\/[A-Za-z0-9_-]{43} \(works once/m);
    await assert.rejects(access(join(dataDir, 'once-link')), 'no file when the link went to a terminal');
  } finally {
    child.stdin.write('\x03');
    const stopped = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
    if (stopped === 'timeout') {
      // Ctrl+C did not reach it: stop serve itself by the pid it wrote, then the terminal.
      const info = JSON.parse(await readFile(join(dataDir, 'serve.json'), 'utf8').catch(() => '{}')) as { pid?: number };
      if (info.pid) process.kill(info.pid, 'SIGTERM');
      child.kill('SIGTERM');
    }
    clearTimeout(timer);
  }
});
