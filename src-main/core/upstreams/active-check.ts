// One active health check of one upstream address: an HTTP GET judged by status and body, or a TCP
// connect. Plain node:http/https with no agent (a fresh connection each time), never the proxy's
// pools: a check must see what a new client would see, and must not take a pooled connection from
// a request. The result says in plain words why a check failed, for the dashboard and the API.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { CheckResult } from '../../../shared/status.js';
import type { ActiveCheck } from '../../../shared/upstreams.js';
import { seconds, upstreamFailure } from '../proxy/errors.js';

/** The body is read up to this many bytes for `bodyContains`; the rest is not waited for. */
export const CHECK_BODY_LIMIT = 64 * 1024;
/** The longest body excerpt a check result keeps. */
const EXCERPT_CHARS = 200;

/** Everything one check of an address needs, decided when routes change (see health.ts). */
export interface CheckTarget {
  readonly scheme: 'http' | 'https';
  /** As a socket connects to it (no IPv6 brackets). */
  readonly host: string;
  readonly port: number;
  /** The Host header: the route's rewriteHost, else its first exact name, else the address (health.ts checkHost). */
  readonly hostHeader: string;
  /** https only: accept a self-signed or otherwise unverifiable certificate (the route's insecureUpstreamTls). */
  readonly insecureTls: boolean;
  readonly check: Readonly<ActiveCheck>;
}

/**
 * A finished check: its result, and the failure as a problem code (upstream_refused,
 * upstream_timeout… for a connection that failed, check_failed for an answer that did not pass;
 * null when it passed), so a route's problem keeps the codes a single request would give.
 */
export interface CheckDone {
  readonly result: CheckResult;
  readonly code: string | null;
}

/** A running check: `done` settles when it ends (never rejects); `cancel` abandons it. */
export interface RunningCheck {
  readonly done: Promise<CheckDone>;
  cancel(): void;
}

const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** A connection-level failure in plain words ("refused the connection"). */
export function connectionError(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'ETIMEDOUT':
    case 'CHECK_TIMEOUT':
      return `timed out after ${seconds(timeoutMs)}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return 'closed the connection before answering';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'could not be reached from this machine (no route to it)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'has a name that could not be looked up';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return 'did not speak TLS; if it is plain http, use http:// in the address';
    default:
      if (typeof code === 'string' && SELF_SIGNED.has(code)) {
        return "certificate not trusted (self-signed); turn on 'accept a self-signed certificate' for this route if that is expected";
      }
      if (typeof code === 'string' && UNTRUSTED.has(code)) {
        return `certificate not trusted (${code}); turn on 'accept a self-signed certificate' for this route if that is expected`;
      }
      if (error instanceof Error && error.name === 'HPE_INVALID_CONSTANT') return 'did not answer in HTTP';
      return `failed${typeof code === 'string' ? ` (${code})` : error instanceof Error ? ` (${error.message})` : ''}`;
  }
}

/** The check as the dashboard names it: "GET /identity" or "TCP connect". */
export function checkLabel(check: Readonly<ActiveCheck>): string {
  return check.kind === 'tcp' ? 'TCP connect' : `GET ${check.path}`;
}

/** The start of a body for people: at most 200 characters, control characters shown as "·". */
export function bodyExcerpt(body: string): string | null {
  if (body === '') return null;
  // eslint-disable-next-line no-control-regex
  return body.slice(0, EXCERPT_CHARS).replace(/[\u0000-\u001f\u007f-\u009f]/g, '·');
}

/** Why a received answer fails the check; null when it passes. */
export function judgeAnswer(check: Readonly<ActiveCheck>, status: number, body: string): string | null {
  if (status < check.statusFrom || status > check.statusTo) {
    const expected = check.statusFrom === check.statusTo ? `${check.statusFrom}` : `${check.statusFrom}–${check.statusTo}`;
    return `answered ${status}; expected ${expected}`;
  }
  if (check.bodyContains !== null && !body.includes(check.bodyContains)) {
    return `the body did not contain "${check.bodyContains}"`;
  }
  return null;
}

/** Starts one check of `target`; it ends within the check's timeout (plus a moment). */
export function runCheck(target: CheckTarget): RunningCheck {
  return target.check.kind === 'tcp' ? tcpCheck(target) : httpCheck(target);
}

type Fields = Pick<CheckResult, 'passed' | 'status' | 'bodyExcerpt' | 'error'> & { code: string | null };

function settle(started: number, label: string, { code, ...fields }: Fields): CheckDone {
  return { result: { at: new Date().toISOString(), check: label, latencyMs: Math.round(performance.now() - started), ...fields }, code };
}

/** The problem code of a connection-level failure; `timeoutCode` for the check's own deadline. */
function failureCode(error: unknown, timeoutCode: string): string {
  return (error as { code?: unknown } | null)?.code === 'CHECK_TIMEOUT' ? timeoutCode : upstreamFailure(error, '', '').code;
}

function tcpCheck(target: CheckTarget): RunningCheck {
  const started = performance.now();
  const label = checkLabel(target.check);
  const socket = connect({ host: target.host, port: target.port });
  let finish: (error: unknown) => void = () => {};
  const done = new Promise<CheckDone>((resolve) => {
    let finished = false;
    finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      socket.destroy();
      resolve(
        settle(started, label, {
          passed: error === null,
          status: null,
          bodyExcerpt: null,
          error: error === null ? null : connectionError(error, target.check.timeoutMs),
          code: error === null ? null : failureCode(error, 'upstream_connect_timeout'),
        }),
      );
    };
    const deadline = setTimeout(() => finish({ code: 'CHECK_TIMEOUT' }), target.check.timeoutMs);
    socket.once('connect', () => finish(null));
    socket.on('error', finish);
  });
  return { done, cancel: () => finish({ code: 'CANCELLED' }) };
}

function httpCheck(target: CheckTarget): RunningCheck {
  const started = performance.now();
  const { check } = target;
  const label = checkLabel(check);
  const request = target.scheme === 'https' ? httpsRequest : httpRequest;
  let finish: (fields: Fields) => void = () => {};
  const done = new Promise<CheckDone>((resolve) => {
    let finished = false;
    const req = request({
      host: target.host,
      port: target.port,
      method: 'GET',
      path: check.path,
      // No agent: one connection per check, closed after it (a check is every few seconds at most).
      agent: false,
      headers: { host: target.hostHeader, 'user-agent': 'Gatehouse health check', accept: '*/*', connection: 'close' },
      ...(target.scheme === 'https' ? { rejectUnauthorized: !target.insecureTls, servername: isIp(target.host) ? undefined : target.host } : {}),
    });
    finish = (fields) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      req.destroy();
      resolve(settle(started, label, fields));
    };
    const failed = (error: unknown) => finish({ passed: false, status: null, bodyExcerpt: null, error: connectionError(error, check.timeoutMs), code: failureCode(error, 'upstream_timeout') });
    // Before an answer the deadline is a timeout; once the status came, it judges what arrived.
    let onDeadline = () => failed({ code: 'CHECK_TIMEOUT' });
    const deadline = setTimeout(() => onDeadline(), check.timeoutMs);
    req.on('error', failed);
    req.on('response', (res) => (onDeadline = readAnswer(res, check, finish)));
    req.end();
  });
  return { done, cancel: () => finish({ passed: false, status: null, bodyExcerpt: null, error: 'cancelled', code: 'check_failed' }) };
}

/**
 * Reads the body as far as the judgement needs it, then judges; returns the judgement to make at
 * the check's deadline (with what arrived by then: the status came, the service lives). A passing
 * status with no bodyContains is judged at once, on the body already received (for the excerpt):
 * a body that keeps streaming (an event stream, a page flushed early) must not turn a 200 into a
 * timeout. Otherwise the body is read up to CHECK_BODY_LIMIT (bodyContains) or the excerpt's worth.
 */
function readAnswer(res: IncomingMessage, check: Readonly<ActiveCheck>, finish: (fields: Fields) => void): () => void {
  const status = res.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let size = 0;
  const wanted = check.bodyContains === null ? EXCERPT_CHARS * 4 : CHECK_BODY_LIMIT;
  const judge = () => {
    const body = Buffer.concat(chunks).subarray(0, CHECK_BODY_LIMIT).toString('utf8');
    const error = judgeAnswer(check, status, body);
    finish({ passed: error === null, status, bodyExcerpt: bodyExcerpt(body), error, code: error === null ? null : 'check_failed' });
  };
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= wanted) judge();
  });
  res.on('end', judge);
  // A body cut short still counts with what arrived.
  res.on('error', judge);
  res.on('aborted', judge);
  // setImmediate: after the chunks that came with the head are emitted, before any further read.
  if (check.bodyContains === null && judgeAnswer(check, status, '') === null) setImmediate(judge);
  return judge;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
