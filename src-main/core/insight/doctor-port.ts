// The doctor's second step: is the proxy running, and does its port answer where other devices
// knock, on this machine's LAN address? A real TCP connection is made to that address (the bound
// one when the proxy listens on one address only), so a listener that is up but unreachable from
// the LAN (bound to 127.0.0.1) says so. The certificate step connects to the address found here.
import { connect } from 'node:net';
import { isIP } from 'node:net';
import type { DoctorCheck } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';
import type { ListenerInfo, Problem, ProxyState } from '../../../shared/status.js';
import { secondsText } from './doctor.js';

/** A connection attempt may take this long, ms. Default: 1500. */
export const CONNECT_TIMEOUT_MS = 1500;

export interface DoctorPortDeps {
  proxy: () => { state: ProxyState; http: ListenerInfo | null; https: ListenerInfo | null; problem: Problem | null };
  /** The address the proxy is told to listen on (settings or override): "0.0.0.0", "127.0.0.1", a LAN address. */
  bindAddress: () => string;
  httpPort: () => number;
  httpsPort: () => number;
  lanAddresses: () => string[];
  timeoutMs?: number;
}

export type ConnectOutcome = { ok: true; ms: number } | { ok: false; code: string; ms: number };

/** One TCP connection to address:port, closed at once; the errno code when it fails, TIMEOUT when nothing answered. */
export function tryConnect(address: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (outcome: ConnectOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, code: 'TIMEOUT', ms: Date.now() - started }), timeoutMs);
    socket.once('connect', () => done({ ok: true, ms: Date.now() - started }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, code: error.code ?? 'ERROR', ms: Date.now() - started }));
  });
}

function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

const isWildcard = (address: string) => address === '0.0.0.0' || address === '::';
const isLoopback = (address: string) => /^127\./.test(address) || address === '::1';

/** Where the doctor knocks for a listener bound to `bound`: a LAN address, else the bound one. */
export function knockAddress(bound: string, lan: readonly string[]): string {
  if (!isWildcard(bound)) return bound;
  return lan.find((address) => isIP(address) === 4) ?? lan[0] ?? (bound === '::' ? '::1' : '127.0.0.1');
}

/** The HTTPS listener's address and port the certificate step connects to, from the port step's checks. */
export interface PortFindings {
  https: { address: string; port: number } | null;
}

async function listenerCheck(kind: 'HTTP' | 'HTTPS', listener: ListenerInfo, deps: DoctorPortDeps): Promise<{ check: DoctorCheck; reached: { address: string; port: number } | null }> {
  const timeoutMs = deps.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const bound = deps.bindAddress();
  const lan = deps.lanAddresses();
  const address = knockAddress(bound, lan);
  const port = listener.port;
  const where = hostPort(address, port);
  const base = { id: `port:${kind.toLowerCase()}`, step: 'port' as const, title: `The ${kind} port answers on ${isLoopback(address) ? 'this machine' : "this machine's LAN address"} (${where})` };
  const outcome = await tryConnect(address, port, timeoutMs);
  if (!outcome.ok) {
    const firewall = kind === 'HTTP' ? `${port}/tcp` : `${port}/tcp`;
    const says =
      outcome.code === 'TIMEOUT'
        ? `Nothing answered on ${where} within ${secondsText(timeoutMs)} s: a firewall on this machine may drop the connection.`
        : outcome.code === 'ECONNREFUSED'
          ? `${where} refused the connection: the proxy is not listening there.`
          : `Connecting to ${where} failed (${outcome.code}).`;
    return {
      check: {
        ...base,
        state: 'fail',
        says,
        fix:
          outcome.code === 'TIMEOUT'
            ? `Allow TCP port ${port} in this machine's firewall (for example "sudo ufw allow ${firewall}", or an inbound rule in Windows Defender Firewall).`
            : 'Restart the proxy from the dashboard; if it still fails, check that no other program holds the port (Settings → Check ports).',
        durationMs: outcome.ms,
      },
      reached: null,
    };
  }
  const reached = { address, port };
  if (isLoopback(address) || (isWildcard(bound) && lan.length === 0)) {
    const onlyHere = isLoopback(bound);
    return {
      check: {
        ...base,
        state: 'warn',
        says: onlyHere
          ? `The ${kind} port answers on ${where}, but the proxy listens on ${bound} only, so other devices cannot reach it.`
          : `The ${kind} port answers on ${where}, but this machine has no LAN address, so other devices cannot reach it.`,
        fix: onlyHere ? 'In Settings, set the listen address to 0.0.0.0 (every address) or this machine\'s LAN address.' : 'Connect this machine to your network (Ethernet or Wi-Fi).',
        durationMs: outcome.ms,
      },
      reached,
    };
  }
  const standard = kind === 'HTTP' ? 80 : 443;
  const note = port === standard ? '' : ` Visitors must add :${port} to the address, since ${kind} is usually on ${standard}.`;
  return { check: { ...base, state: 'pass', says: `The proxy answered on ${where} in ${outcome.ms} ms.${note}`, fix: null, durationMs: outcome.ms }, reached };
}

/** The port step: the route is on, the proxy runs, and its ports answer on the LAN address. */
export async function portChecks(route: Route, deps: DoctorPortDeps, findings: PortFindings): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  if (!route.enabled) {
    checks.push({
      id: 'port:route',
      step: 'port',
      title: 'The route is turned on',
      state: 'fail',
      says: 'The route is turned off, so Gatehouse answers its names like names it does not know.',
      fix: 'Turn the route on (its switch on the dashboard, or in its settings).',
      durationMs: 0,
    });
  }
  const proxy = deps.proxy();
  if (proxy.state !== 'running' || !proxy.http) {
    const failed = proxy.state === 'failed' && proxy.problem;
    checks.push({
      id: 'port:proxy',
      step: 'port',
      title: 'The proxy is running',
      state: 'fail',
      says: failed ? `The proxy could not start: ${proxy.problem!.message}` : `The proxy is ${proxy.state}, so nothing answers on ports ${deps.httpPort()} and ${deps.httpsPort()}.`,
      fix: failed && proxy.problem!.fix ? proxy.problem!.fix : 'Start the proxy (the Start button on the dashboard, or "Start proxy" in the tray menu).',
      durationMs: 0,
    });
    return checks;
  }
  const listeners: Promise<Awaited<ReturnType<typeof listenerCheck>>>[] = [listenerCheck('HTTP', proxy.http, deps)];
  const wantsHttps = route.tls.mode !== 'none';
  if (wantsHttps && proxy.https) listeners.push(listenerCheck('HTTPS', proxy.https, deps));
  const results = await Promise.all(listeners);
  checks.push(...results.map((result) => result.check));
  findings.https = wantsHttps ? (results[1]?.reached ?? null) : null;
  if (wantsHttps && !proxy.https) {
    checks.push({ id: 'port:https', step: 'port', title: 'The HTTPS port answers', state: 'fail', says: 'The proxy has no HTTPS listener running.', fix: 'Restart the proxy from the dashboard.', durationMs: 0 });
  }
  return checks;
}
