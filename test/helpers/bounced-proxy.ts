// The real proxy engine with the real access runtime (CrowdSec bouncer included) in this process,
// its access log written to a temp data directory, for the CrowdSec tests. The test client on
// 127.0.0.1 is a trusted proxy, so X-Forwarded-For names the client Gatehouse judges. Bans are
// refused by the real access pass (access-rules.ts), which asks the reputation.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { defaultAccessSettings, type AccessSettings, type CrowdsecSettings } from '../../shared/access.js';
import { defaultSettings } from '../../shared/model.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { AccessLog } from '../../src-main/core/proxy/access-log.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { echoHandler, fetchThrough, proxySettings, route, startServer, type FetchedResponse, type TestServer } from './proxy-harness.js';

export interface BouncedProxy {
  readonly dataDir: string;
  readonly runtime: AccessRuntime;
  readonly port: number;
  readonly accessLog: AccessLog;
  /** GET `path` on app.test as client `client` (sent as X-Forwarded-For by the trusted 127.0.0.1). */
  get(client: string, path?: string, headers?: Record<string, string>): Promise<FetchedResponse>;
  /** Changes the CrowdSec settings, as updateAccessSettings does. */
  setCrowdsec(settings: Partial<CrowdsecSettings>): void;
  close(): Promise<void>;
}

export interface BouncedProxyOptions {
  crowdsec?: Partial<CrowdsecSettings>;
  apiKey?: string;
  /** Write DATA_DIR/access-combined.log. Default: false. */
  combinedLog?: boolean;
  /** The upstream's answers. Default: 200 with an echo of the request. */
  handler?: Parameters<typeof startServer>[0];
}

export async function startBouncedProxy(options: BouncedProxyOptions = {}): Promise<BouncedProxy> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-crowdsec-proxy-'));
  const ownNetworks = new OwnNetworks();
  let access: AccessSettings = defaultAccessSettings();
  access = { ...access, crowdsec: { ...access.crowdsec, ...options.crowdsec } };
  const runtime = await AccessRuntime.open({ dataDir, ownNetworks, settings: access });
  if (options.apiKey !== undefined) await runtime.crowdsec.setApiKey(options.apiKey);
  const accessLog = new AccessLog({ dir: dataDir, settings: { ...defaultSettings().log, combinedLog: options.combinedLog ?? false } });
  const upstream: TestServer = await startServer(options.handler ?? echoHandler('app'));
  const engine = new ProxyEngine({
    settings: proxySettings({ trustedProxies: ['127.0.0.1'] }),
    stopGraceMs: 1000,
    ownNetworks,
    passesFor: runtime.passesFor,
    onRequestLogged: (entry, req) => accessLog.write(entry, req),
  });
  engine.setRoutes([route('app', upstream.url, ['app.test'], { access: { ...route('x', '', []).access, exposure: 'anyone' } })]);
  const { port } = await engine.start();
  const agent = new Agent({ keepAliveTimeout: 10 });
  return {
    dataDir,
    runtime,
    port,
    accessLog,
    get: (client, path = '/', headers = {}) => fetchThrough(agent, port, 'app.test', path, { headers: { 'x-forwarded-for': client, ...headers } }),
    setCrowdsec(settings) {
      access = { ...access, crowdsec: { ...access.crowdsec, ...settings } };
      runtime.apply(access);
      engine.refreshPasses();
    },
    async close() {
      await agent.close();
      await engine.stop();
      await upstream.close();
      await runtime.close();
      await accessLog.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 100 ms until it returns true; fails naming `what` after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
