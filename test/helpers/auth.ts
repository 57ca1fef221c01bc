// Sign-in as a browser does it, against a real admin server: the one-time link serve prints, the
// set-password command fed through stdin, POST /auth/sign-in, and the session cookie carried by hand
// (fetch keeps no cookie jar). `from` binds the client to another loopback address (127.0.0.2 …),
// which the admin server sees as another client.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { binPath, repoRoot } from './serve.js';

export const PASSWORD = 'correct horse battery staple';

/**
 * The one-time link serve gave, or null: printed when its output is a terminal, else (as in these
 * tests, which read it through a pipe) in the file its output names, until the link is spent.
 */
export function onceLinkIn(stdout: string): string | null {
  const printed = /^Sign in: +open (https?:\/\/\S+\/auth\/once\/[A-Za-z0-9_-]+) /m.exec(stdout)?.[1];
  if (printed) return printed;
  const file = /^Sign in: +open the one-time link in the file (.+) \(works once/m.exec(stdout)?.[1];
  if (!file) return null;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Runs `gatehouse set-password --data-dir DIR [...args]` with `input` on stdin (not a terminal). */
export async function runSetPassword(dataDir: string, input: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, 'set-password', '--data-dir', dataDir, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const agents = new Map<string, Agent>();
function agentFor(from: string): Agent {
  let agent = agents.get(from);
  if (!agent) agents.set(from, (agent = new Agent({ localAddress: from, connect: { rejectUnauthorized: false } })));
  return agent;
}

export interface Client {
  /** The session cookie's value, once signed in. */
  cookie: string | null;
  request(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any; text: string }>;
}

/**
 * A browser-like client of the admin at `baseUrl`: it sends its session cookie (whatever name the
 * server set) and keeps the one the server sets next. `from` is the local address to connect from.
 */
export function client(baseUrl: string, from = '127.0.0.1'): Client & { cookieName: string | null } {
  const state: Client & { cookieName: string | null } = {
    cookie: null,
    cookieName: null,
    async request(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (state.cookie && state.cookieName) headers.cookie = `${state.cookieName}=${state.cookie}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const response = await undiciFetch(new URL(path, baseUrl), {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        redirect: 'manual',
        dispatcher: agentFor(from),
      });
      const setCookie = response.headers.get('set-cookie');
      if (setCookie) {
        const [pair] = setCookie.split(';');
        const eq = pair!.indexOf('=');
        state.cookieName = pair!.slice(0, eq);
        state.cookie = pair!.slice(eq + 1) || null;
      }
      const text = await response.text();
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      return { status: response.status, headers: response.headers as unknown as Headers, body, text };
    },
  };
  return state;
}

/** Signs a new client in with the password (and a code); asserts nothing, returns the answer. */
export async function signedInClient(baseUrl: string, password = PASSWORD, from = '127.0.0.1') {
  const browser = client(baseUrl, from);
  const answer = await browser.request('/auth/sign-in', { body: { password } });
  if (answer.status !== 200 || !browser.cookie) throw new Error(`sign-in failed: ${answer.status} ${answer.text}`);
  return browser;
}

/** serve writes serve.json before it prints its ready lines: waits until they are all out. */
export async function readyLines(serve: { stdout(): string }): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (!serve.stdout().includes('Stop with Ctrl+C.')) {
    if (Date.now() > deadline) throw new Error(`serve printed no ready lines:\n${serve.stdout()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return serve.stdout();
}
