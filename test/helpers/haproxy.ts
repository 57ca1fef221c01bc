// A real HAProxy (Debian's haproxy) in TCP mode in front of the proxy under test, sending the PROXY
// protocol header: each frontend listens on 127.0.0.1 and a free port and passes connections to
// one backend address, connecting from `source` so the proxy sees a distinct peer. The config
// lives in a temporary directory; stop() ends the process by its PID and removes the directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { sleep } from './proxy-harness.js';

export interface HaproxyFrontend {
  /** Where HAProxy passes connections: 127.0.0.1 and the proxy's port. */
  backendPort: number;
  /** "send-proxy" (v1), "send-proxy-v2", or "" for none. */
  sendProxy: 'send-proxy' | 'send-proxy-v2' | '';
  /** The address HAProxy connects from. */
  source: string;
}

export interface RunningHaproxy {
  /** The frontends' ports, in the order given. */
  readonly ports: number[];
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startHaproxy(frontends: HaproxyFrontend[]): Promise<RunningHaproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-haproxy-'));
  const ports: number[] = [];
  let config = 'global\n  maxconn 200\n\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\n';
  for (const [i, front] of frontends.entries()) {
    const port = await freePort();
    ports.push(port);
    config += `frontend f${i}\n  bind 127.0.0.1:${port}\n  default_backend b${i}\n\n`;
    config += `backend b${i}\n  server s${i} 127.0.0.1:${front.backendPort} source ${front.source} ${front.sendProxy}\n\n`;
  }
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  // Ready once every frontend accepts connections.
  const deadline = Date.now() + 5000;
  for (const port of ports) {
    for (;;) {
      if (child.exitCode !== null) {
        await stop();
        throw new Error(`haproxy exited: ${stderr}`);
      }
      const up = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (up) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`haproxy did not listen on ${port} within 5 s: ${stderr}`);
      }
      await sleep(20);
    }
  }
  return { ports, pid: child.pid as number, stop };
}
