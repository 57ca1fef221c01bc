// The doctor's fourth step: does each upstream answer, and is it the app the route expects? Each
// upstream gets one real HTTP(S) request with a short timeout (the same bounded peek discovery
// uses), its TLS certificate is verified when the route does not skip verification (the proxy would
// refuse it too), and when the route names its app, discovery's identification says whether what
// answers looks like that app ("this looks like Plex, not Jellyfin"). The health checker's view
// (drained, down, cooling) is added in words.
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { DoctorCheck } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';
import type { Identification, RouteHealth } from '../../../shared/status.js';
import { peek, type PeekResult } from '../discovery/http-peek.js';
import { identifyService } from '../discovery/identify.js';
import { presetById } from '../discovery/presets.js';
import { secondsText } from './doctor.js';

/** The request to each upstream, connect included, ms. Default: 1800. */
export const UPSTREAM_TIMEOUT_MS = 1800;
/** Identifying the app behind the first upstream that answered, ms. Default: 2000. */
export const IDENTIFY_BUDGET_MS = 2000;

export interface DoctorUpstreamDeps {
  health: () => RouteHealth[];
  /** What answers at an address (discovery's identification); default identifyService. */
  identify?: typeof identifyService;
  timeoutMs?: number;
  identifyMs?: number;
}

interface Target {
  url: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

function targetOf(url: string): Target {
  const parsed = new URL(url);
  const scheme = parsed.protocol === 'https:' ? 'https' : 'http';
  return { url, scheme, host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (scheme === 'https' ? 443 : 80)) };
}

/** Whether the upstream's certificate verifies (what the proxy checks unless the route skips it); null when it does, else why not. */
function verifyUpstreamTls(target: Target, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: target.host, port: target.port, ...(isIP(target.host) ? {} : { servername: target.host }), rejectUnauthorized: false });
    const done = (result: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.once('secureConnect', () => {
      if (!socket.authorized) return done(String((socket.authorizationError as Error & { code?: string })?.code ?? socket.authorizationError));
      const cert = socket.getPeerX509Certificate();
      done(cert && !isIP(target.host) && cert.checkHost(target.host) === undefined ? `it is not for ${target.host}` : null);
    });
    // Handshake failures are the request's to report.
    socket.once('error', () => done(null));
  });
}

function noAnswerWords(result: Exclude<PeekResult, { kind: 'response' }>, target: Target, timeoutMs: number): { says: string; fix: string } {
  const where = `${target.host}:${target.port}`;
  if (result.kind === 'wants-tls') return { says: `${where} speaks HTTPS, but the route sends plain HTTP to it.`, fix: `Change the upstream to https://${where}.` };
  if (result.kind === 'wants-plain') return { says: `${where} speaks plain HTTP, but the route sends HTTPS to it.`, fix: `Change the upstream to http://${where}.` };
  const reason = result.reason;
  if (/refused/i.test(reason)) return { says: `Nothing listens at ${where}: the connection was refused.`, fix: 'Start the service, or correct the port in the route (the service may listen on another one).' };
  if (/within|out of time/i.test(reason)) {
    return { says: `${where} did not answer within ${secondsText(timeoutMs)} s: the device may be off, on another address, or behind a firewall that drops the connection.`, fix: `Check that the device at ${target.host} is on and that the service's port ${target.port} is open to this machine.` };
  }
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/i.test(reason)) return { says: `This machine cannot resolve ${target.host}.`, fix: `Use the service's IP address in the route, or add a DNS record for ${target.host}.` };
  if (/cannot be reached/i.test(reason)) return { says: `${target.host} cannot be reached from this machine (no route to it).`, fix: `Check that ${target.host} is on this network and powered on.` };
  return { says: `${where} did not answer HTTP: ${reason}.`, fix: 'Check that the route points at the service\'s web port.' };
}

interface Answered {
  target: Target;
  check: DoctorCheck;
  answered: boolean;
}

async function upstreamCheck(route: Route, url: string, index: number, health: RouteHealth | undefined, deps: DoctorUpstreamDeps): Promise<Answered> {
  const started = Date.now();
  const timeoutMs = deps.timeoutMs ?? UPSTREAM_TIMEOUT_MS;
  const target = targetOf(url);
  const base = { id: `upstream:${url}`, step: 'upstream' as const, title: `${target.host}:${target.port} answers` };
  const verify = target.scheme === 'https' && !route.insecureUpstreamTls ? verifyUpstreamTls(target, timeoutMs) : Promise.resolve(null);
  const [result, tlsProblem] = await Promise.all([
    peek({ address: target.host, port: target.port, scheme: target.scheme, path: '/', hostName: route.rewriteHost?.replace(/:\d+$/, '') ?? route.names.find((name) => !name.startsWith('*.')) ?? target.host, connectTimeoutMs: Math.min(1200, timeoutMs), timeoutMs, maxBodyBytes: 16 * 1024 }),
    verify,
  ]);
  const durationMs = Date.now() - started;
  const view = health?.upstreams.find((entry) => entry.url === url) ?? health?.upstreams[index];
  if (result.kind !== 'response') {
    const words = noAnswerWords(result, target, timeoutMs);
    return { target, answered: false, check: { ...base, state: 'fail', ...words, durationMs } };
  }
  if (tlsProblem) {
    return {
      target,
      answered: true,
      check: {
        ...base,
        state: 'fail',
        says: `${target.host}:${target.port} answers, but its certificate does not verify (${tlsProblem}), so the proxy refuses it.`,
        fix: 'Turn on "Accept the upstream\'s certificate without verifying" in the route (appliances with a self-signed certificate need it), or give the service a certificate this machine trusts.',
        durationMs,
      },
    };
  }
  const status = `HTTP ${result.status} in ${durationMs} ms`;
  if (view?.drained) {
    return { target, answered: true, check: { ...base, state: 'warn', says: `It answers (${status}), but it is drained: it takes no new requests.`, fix: 'Undrain it on the dashboard when its maintenance is done.', durationMs } };
  }
  if (result.status >= 500) {
    return { target, answered: true, check: { ...base, state: 'warn', says: `It answers, but with an error (${status}): the service itself reports a problem.`, fix: "Look at the service's own log.", durationMs } };
  }
  if (view && view.state === 'down' && view.problem) {
    return { target, answered: true, check: { ...base, state: 'warn', says: `It answers now (${status}), but its health check says down: ${view.problem.message}`, fix: view.problem.fix ?? 'Check the route\'s health-check path and expected status.', durationMs } };
  }
  return { target, answered: true, check: { ...base, state: 'pass', says: `It answers: ${status}.`, fix: null, durationMs } };
}

function appCheck(route: Route, answered: Answered | undefined, identification: Identification | null, durationMs: number): DoctorCheck {
  const expected = presetById(route.app!)?.app ?? route.app!;
  const base = { id: 'upstream:app', step: 'upstream' as const, title: `It is ${expected}`, durationMs };
  if (!answered) return { ...base, state: 'skipped', says: 'No upstream answered, so which app it is cannot be told.', fix: null };
  const where = `${answered.target.host}:${answered.target.port}`;
  if (!identification) return { ...base, state: 'warn', says: `Could not tell which app answers at ${where} in time.`, fix: null };
  const evidence = identification.evidence.slice(0, 2).join('; ');
  if (identification.presetId === route.app) return { ...base, state: 'pass', says: `${where} answers like ${expected} (${evidence}).`, fix: null };
  if (identification.presetId !== null) {
    return {
      ...base,
      state: 'fail',
      says: `This looks like ${identification.app}, not ${expected} (${evidence}).`,
      fix: `Point the route at ${expected}'s address and port, or set the route's app to ${identification.app} if that is what it serves.`,
    };
  }
  return { ...base, state: 'warn', says: `Could not confirm ${expected} at ${where}: it answers as "${identification.app}" (${evidence}).`, fix: `Check that ${where} is ${expected}'s web port.` };
}

/** The upstream step: every upstream in parallel, then the app behind the first that answered. */
export async function upstreamChecks(route: Route, deps: DoctorUpstreamDeps): Promise<DoctorCheck[]> {
  if (route.redirect !== null) {
    // Nothing is forwarded: the route answers by itself. Whether the target answers is the
    // visitor's browser's business (it may be on the internet, or need the visitor's own DNS).
    const { to, status, keepPath } = route.redirect;
    return [{ id: 'upstream:redirect', step: 'upstream', title: 'Redirect', state: 'skipped', says: `This route redirects to ${to} (${status}${keepPath ? ', path kept' : ''}); there is no upstream to check.`, fix: null, durationMs: 0 }];
  }
  const health = deps.health().find((entry) => entry.routeId === route.id);
  const results = await Promise.all(route.upstreams.map((upstream, index) => upstreamCheck(route, upstream.url, index, health, deps)));
  const checks = results.map((result) => result.check);
  if (route.app) {
    const started = Date.now();
    const first = results.find((result) => result.answered);
    const identification = first
      ? await (deps.identify ?? identifyService)({ address: first.target.host, port: first.target.port, scheme: first.target.scheme }, { timeoutMs: deps.identifyMs ?? IDENTIFY_BUDGET_MS }).catch(() => null)
      : null;
    checks.push(appCheck(route, first, identification, Date.now() - started));
  }
  if (route.upstreams.length > 1 && results.every((result) => !result.answered)) {
    checks.push({ id: 'upstream:none', step: 'upstream', title: 'At least one upstream answers', state: 'fail', says: 'None of the route\'s upstreams answers, so visitors get "the service is not answering".', fix: 'Start the service on at least one of them.', durationMs: 0 });
  }
  return checks;
}
