// `gatehouse serve`: one gateway, its admin server, and the lines a person (or a test) needs to use
// them, until SIGINT or SIGTERM. A port that cannot be bound ends the run with the Problem's message
// and fix and exit code 2, never a stack trace.
import { mkdir, rm } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { ApiError } from '../../shared/api.js';
import type { ListenerInfo, Problem, ProxyStatus } from '../../shared/status.js';
import { createGateway, type Gateway } from '../core/gateway.js';
import { isLoopbackAddress } from '../core/gateway/admin-endpoint.js';
import { ListenError } from '../core/net/listen.js';
import { writeFileDurably } from '../core/settings/durable-file.js';
import { AdminServer } from './admin-server.js';
import { loadAdminToken } from './admin-token.js';
import { AdminAuth } from './auth/admin-auth.js';
import { AuthRoutes } from './auth/auth-routes.js';
import { setPasswordCommandName } from './auth/set-password-command.js';
import { ONE_TIME_LINK_PREFIX } from '../../shared/admin-auth.js';
import type { ServeOptions } from './options.js';
import { packageVersion, rendererDir } from '../core/package-root.js';

export const SERVE_INFO_FILE = 'serve.json';

/** What DATA_DIR/serve.json holds while `serve` runs (tests and the benchmark read it). */
export interface ServeInfo {
  pid: number;
  /** The proxy's HTTP listener, or null while the proxy is not running. */
  proxy: ListenerInfo | null;
  admin: ListenerInfo;
  /** Base URL of the admin server. Carries no secret: the token is in DATA_DIR/admin-token. */
  adminUrl: string;
}

export interface ServeOutput {
  out(line: string): void;
  err(line: string): void;
  /** Whether `out` reaches a person at a terminal rather than a log or journal that keeps it. */
  terminal?: boolean;
}

const consoleOutput: ServeOutput = { out: (line) => console.log(line), err: (line) => console.error(line), terminal: process.stdout.isTTY === true };

/** A URL a browser on this machine can open for a listener (0.0.0.0 and :: mean "this machine" here). */
export function localUrl(listener: ListenerInfo, scheme: 'http' | 'https' = 'http'): string {
  const host =
    listener.address === '0.0.0.0' ? '127.0.0.1' : listener.address === '::' ? '[::1]' : isIPv6(listener.address) ? `[${listener.address}]` : listener.address;
  return `${scheme}://${host}:${listener.port}/`;
}

function printProblem(output: ServeOutput, problem: Problem): void {
  output.err(`gatehouse: ${problem.message}`);
  if (problem.fix) output.err(`Fix: ${problem.fix}`);
}

/** DATA_DIR/serve.json, kept in step with the proxy listener (stopped, started, moved to another port). */
class ServeInfoFile {
  #writes: Promise<void>;
  #unsubscribe: () => void = () => {};

  private constructor(
    private readonly file: string,
    private readonly info: ServeInfo,
  ) {
    this.#writes = this.#write();
  }

  static async create(dataDir: string, info: ServeInfo, gateway: Gateway, output: ServeOutput): Promise<ServeInfoFile> {
    const infoFile = new ServeInfoFile(join(dataDir, SERVE_INFO_FILE), info);
    await infoFile.#writes;
    // Status only: a subscriber to every event would make the proxy gather log batches for nobody.
    infoFile.#unsubscribe = gateway.subscribe((event) => {
      if (event.type !== 'status' || JSON.stringify(event.data.http) === JSON.stringify(infoFile.info.proxy)) return;
      infoFile.info.proxy = event.data.http;
      infoFile.#writes = infoFile.#writes
        .then(() => infoFile.#write())
        .catch((error: unknown) => output.err(`gatehouse: could not update ${infoFile.file}: ${(error as Error).message}`));
    }, ['status']);
    return infoFile;
  }

  async stopTracking(): Promise<void> {
    this.#unsubscribe();
    await this.#writes;
  }

  remove(): Promise<void> {
    return rm(this.file, { force: true });
  }

  async #write(): Promise<void> {
    // Replaced whole, so a reader never sees half a file.
    await writeFileDurably(this.file, `${JSON.stringify(this.info, null, 2)}\n`, { mode: 0o600 });
  }
}

function printReady(
  output: ServeOutput,
  ready: { status: ProxyStatus; adminListener: ListenerInfo; adminUrl: string; lanUrl: string | null; onceLink: { url: string } | { file: string } | null; dataDir: string },
): void {
  const { status, adminListener } = ready;
  output.out(`Gatehouse ${packageVersion()} is running.`);
  output.out(proxyLine(status));
  output.out(`Admin UI:  ${ready.adminUrl}`);
  const setPassword = `${setPasswordCommandName()} --data-dir ${quoteForShell(ready.dataDir)}`;
  // The one-time link is printed only to a terminal; a journal would keep it for anyone who can read
  // logs, so there it goes into a file only this user can read. The bearer token is never printed.
  if (ready.onceLink && 'url' in ready.onceLink) {
    output.out(`Sign in:   open ${ready.onceLink.url} (works once, for 30 minutes), then choose a password; or run "${setPassword}"`);
  } else if (ready.onceLink) {
    output.out(`Sign in:   open the one-time link in the file ${ready.onceLink.file} (works once, for 30 minutes), then choose a password; or run "${setPassword}"`);
  } else {
    output.out(`Sign in:   with the admin password (forgot it? run "${setPassword}" on this machine)`);
  }
  output.out(`Data dir:  ${ready.dataDir}`);
  if (!isLoopbackAddress(adminListener.address)) {
    output.out(`Note: the admin UI listens on ${adminListener.address}, so other machines can reach it; it asks them for the admin password.`);
    if (ready.lanUrl && ready.lanUrl !== ready.adminUrl) output.out(`On the LAN: ${ready.lanUrl}`);
    output.out('It is served over HTTPS with a certificate from the local CA: trust the CA on a device first (the page /ca on the proxy shows how).');
  }
  const notice = status.settingsNotice;
  if (notice) output.out(`Notice: ${notice.message}${notice.fix ? ` ${notice.fix}` : ''}`);
  output.out('Stop with Ctrl+C.');
}

function quoteForShell(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function proxyLine(status: ProxyStatus): string {
  if (status.http) {
    const https = status.https ? ` and ${status.https.address}:${status.https.port} (HTTPS)` : '';
    return `Proxy:     listening on ${status.http.address}:${status.http.port} (HTTP)${https}`;
  }
  return 'Proxy:     stopped (proxy.startOnLaunch is off); start it from the web UI or POST /api/proxy/start';
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
function stopRequested(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) process.exit(1);
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Runs until a signal; resolves with the exit code (0 after a signal, 2 when a port cannot be bound). */
export async function serve(options: ServeOptions, output: ServeOutput = consoleOutput): Promise<number> {
  const stop = stopRequested();
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });

  let gateway: Gateway;
  try {
    gateway = await createGateway({
      dataDir: options.dataDir,
      overrides: { httpPort: options.httpPort, httpsPort: options.httpsPort, bindAddress: options.bindAddress },
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    printProblem(output, { code: error.code, message: error.message, fix: error.details.fix });
    return 2;
  }

  const token = await loadAdminToken(options.dataDir);
  const auth = await AdminAuth.open({ dataDir: options.dataDir, token });
  const settings = await gateway.handlers.getSettings({});
  const adminBind = options.adminBindAddress ?? settings.admin.bindAddress;
  // Anything but loopback carries the password, the session and the token over the LAN: HTTPS then.
  const https = !isLoopbackAddress(adminBind);
  let admin: AdminServer;
  try {
    const tls = https ? await gateway.admin.certificate(adminBind) : undefined;
    admin = new AdminServer({ gateway, auth: new AuthRoutes(auth), rendererDir: rendererDir(), allowedHosts: settings.admin.allowedHosts, ...(tls ? { tls } : {}) });
  } catch (error) {
    output.err(`gatehouse: the admin UI's HTTPS certificate could not be issued: ${(error as Error).message}`);
    await auth.close();
    await gateway.close();
    return 2;
  }
  const shutDown = async () => {
    gateway.admin.listening(null);
    await admin.close();
    await auth.close();
    await gateway.close();
  };

  let adminListener: ListenerInfo;
  try {
    adminListener = await admin.listen(adminBind, options.adminPort ?? settings.admin.port);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    printProblem(output, error.problem);
    await admin.close();
    await auth.close();
    await gateway.close();
    return 2;
  }
  gateway.admin.listening({ ...adminListener, https });

  await gateway.startup();
  const status = await gateway.handlers.getStatus({});
  if (status.state === 'failed' && status.problem) {
    printProblem(output, status.problem);
    await shutDown();
    return 2;
  }

  const adminUrl = localUrl(adminListener, https ? 'https' : 'http');
  const infoFile = await ServeInfoFile.create(options.dataDir, { pid: process.pid, proxy: status.http, admin: adminListener, adminUrl }, gateway, output);
  const lanUrl = gateway.admin.linkFor(undefined);
  const onceCode = auth.createOnceLink();
  // On the LAN address when there is one: a headless server's owner opens it on another device.
  const onceUrl = onceCode && new URL(ONE_TIME_LINK_PREFIX + onceCode, lanUrl ?? adminUrl).href;
  const onceLink = onceUrl ? (output.terminal ? { url: onceUrl } : { file: await auth.writeOnceLinkFile(onceUrl) }) : null;
  printReady(output, { status, adminListener, adminUrl, lanUrl, onceLink, dataDir: options.dataDir });

  const signal = await stop;
  output.out(`Received ${signal}; stopping.`);
  await infoFile.stopTracking();
  await shutDown();
  await infoFile.remove();
  return 0;
}
