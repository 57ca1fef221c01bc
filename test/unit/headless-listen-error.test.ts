// What `gatehouse serve` (and the desktop app) tells a user whose OS refused a port below 1024, per
// OS: the errors are faked here, since the tests run as root (see headless-ports for the real one).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainListenError } from '../../src-main/core/net/listen.js';

const eacces = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' }) as NodeJS.ErrnoException;

test('EACCES on Linux: setcap on the runtime, or the sysctl (and how to keep it)', async () => {
  const problem = await explainListenError(eacces, 'proxy', '0.0.0.0', 80, 'linux');
  assert.equal(problem.code, 'port_permission');
  assert.equal(problem.message, 'The proxy is not allowed to listen on 0.0.0.0:80.');
  assert.match(problem.fix ?? '', new RegExp(`sudo setcap cap_net_bind_service=\\+ep "${process.execPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`));
  assert.match(problem.fix ?? '', /sudo sysctl -w net\.ipv4\.ip_unprivileged_port_start=80/);
  assert.match(problem.fix ?? '', /\/etc\/sysctl\.d\//);
});

test('EACCES on macOS: listen on 0.0.0.0 or pick a port of 1024 or above', async () => {
  const problem = await explainListenError(eacces, 'proxy', '192.168.1.5', 80, 'darwin');
  assert.equal(problem.message, 'The proxy is not allowed to listen on 192.168.1.5:80.');
  assert.match(problem.fix ?? '', /listen on 0\.0\.0\.0, or choose a port of 1024 or above/);
});

test('EACCES on Windows: the excluded port ranges', async () => {
  const problem = await explainListenError(eacces, 'admin server', '127.0.0.1', 443, 'win32');
  assert.equal(problem.message, 'The admin server is not allowed to listen on 127.0.0.1:443.');
  assert.match(problem.fix ?? '', /netsh interface ipv4 show excludedportrange protocol=tcp/);
});

test('EADDRINUSE names the port and how to find its holder, per OS', async () => {
  const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }) as NodeJS.ErrnoException;
  const fixes = {
    linux: /sudo ss -ltnp 'sport = :8080'/,
    darwin: /sudo lsof -nP -iTCP:8080 -sTCP:LISTEN/,
    win32: /netstat -ano \| findstr :8080/,
  } as const;
  for (const [platform, fix] of Object.entries(fixes)) {
    const problem = await explainListenError(inUse, 'proxy', '0.0.0.0', 8080, platform as NodeJS.Platform);
    assert.equal(problem.code, 'port_in_use');
    assert.match(problem.message, /another program is already using port 8080/);
    assert.match(problem.fix ?? '', fix);
  }
});
