// The one errno → failure map: every code it knows lands on the right failure, status and sentence,
// whether the code sits on the error itself or on its cause (undici wraps errors), and real errors
// from undici and the socket layer are classified as the page will describe them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { describe, test } from 'node:test';
import { errors as undiciErrors } from 'undici';
import { ProxyError, proxyErrors, upstreamFailure, type ProxyErrorCode } from '../../src-main/core/proxy/errors.js';

const TIMEOUTS = { connectMs: 5000, headersMs: 60_000 };
const fail = (error: unknown) => upstreamFailure(error, 'Jellyfin', '10.0.0.4:8096', TIMEOUTS);
const withCode = (code: string) => Object.assign(new Error(`internal detail for ${code}`), { code });

/** Every code the map names, and the failure it must become. */
const MAPPED: Record<string, ProxyErrorCode> = {
  ECONNREFUSED: 'upstream_refused',
  ECONNRESET: 'upstream_reset',
  EPIPE: 'upstream_reset',
  UND_ERR_SOCKET: 'upstream_reset',
  UND_ERR_CLOSED: 'upstream_reset',
  UND_ERR_DESTROYED: 'upstream_reset',
  EHOSTUNREACH: 'upstream_unreachable',
  ENETUNREACH: 'upstream_unreachable',
  EHOSTDOWN: 'upstream_unreachable',
  ENETDOWN: 'upstream_unreachable',
  ENOTFOUND: 'upstream_dns',
  EAI_AGAIN: 'upstream_dns',
  EAI_NONAME: 'upstream_dns',
  UND_ERR_CONNECT_TIMEOUT: 'upstream_connect_timeout',
  ETIMEDOUT: 'upstream_connect_timeout',
  UND_ERR_HEADERS_TIMEOUT: 'upstream_timeout',
  UND_ERR_BODY_TIMEOUT: 'upstream_timeout',
  UND_ERR_INFO: 'upstream_bad_response',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'upstream_bad_response',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'upstream_bad_response',
  HPE_INVALID_CONSTANT: 'upstream_bad_response',
  HPE_INVALID_HEADER_TOKEN: 'upstream_bad_response',
  HPE_INVALID_STATUS: 'upstream_bad_response',
  HPE_INVALID_VERSION: 'upstream_bad_response',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'upstream_bad_response',
  HPE_INVALID_CHUNK_SIZE: 'upstream_bad_response',
  HPE_INVALID_CONTENT_LENGTH: 'upstream_bad_response',
  HPE_INVALID_TRANSFER_ENCODING: 'upstream_bad_response',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'upstream_tls',
  SELF_SIGNED_CERT_IN_CHAIN: 'upstream_tls',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'upstream_tls',
  UNABLE_TO_GET_ISSUER_CERT: 'upstream_tls',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'upstream_tls',
  CERT_HAS_EXPIRED: 'upstream_tls',
  CERT_NOT_YET_VALID: 'upstream_tls',
  ERR_TLS_CERT_ALTNAME_INVALID: 'upstream_tls',
  ERR_SSL_WRONG_VERSION_NUMBER: 'upstream_tls',
  EPROTO: 'upstream_tls',
};

describe('upstreamFailure', () => {
  for (const [code, expected] of Object.entries(MAPPED)) {
    test(`${code} → ${expected} (${proxyErrors[expected].status})`, () => {
      for (const error of [withCode(code), new Error('wrapped', { cause: withCode(code) }), new Error('twice', { cause: new Error('once', { cause: withCode(code) }) })]) {
        const failure = fail(error);
        assert.ok(failure instanceof ProxyError);
        assert.equal(failure.code, expected);
        assert.equal(failure.status, proxyErrors[expected].status);
        assert.ok(failure.detail.includes('10.0.0.4:8096'), failure.detail);
        assert.ok(!failure.detail.includes('internal detail'), 'the raw error message never reaches the page');
      }
    });
  }

  test('the sentences say what happened in the user\'s terms', () => {
    assert.equal(fail(withCode('ECONNREFUSED')).detail, 'Jellyfin at 10.0.0.4:8096 refused the connection. Is it running, and listening on that port?');
    assert.match(fail(withCode('ECONNRESET')).detail, /^Jellyfin at 10\.0\.0\.4:8096 closed the connection before it finished answering\.$/);
    assert.match(fail(withCode('EHOSTUNREACH')).detail, /^No route to 10\.0\.0\.4:8096 from this machine\. Is Jellyfin's machine on/);
    assert.match(fail(withCode('ENOTFOUND')).detail, /could not be looked up/);
    assert.match(fail(withCode('UND_ERR_BODY_TIMEOUT')).detail, /stopped sending its response/);
    assert.match(fail(withCode('HPE_INVALID_CONSTANT')).detail, /not valid HTTP\. Is that port really a web service \(and plain http, not https\)\?/);
    assert.match(fail(withCode('CERT_HAS_EXPIRED')).detail, /\(CERT_HAS_EXPIRED\)/);
    assert.match(fail(withCode('CERT_HAS_EXPIRED')).detail, /self-signed certificate/);
  });

  test('timeouts are stated in seconds from the settings in force', () => {
    const timeouts = { connectMs: 2500, headersMs: 500 };
    assert.match(upstreamFailure(withCode('UND_ERR_CONNECT_TIMEOUT'), 'NAS', 'nas:5000', timeouts).detail, /did not accept a connection within 2\.5 s/);
    assert.match(upstreamFailure(withCode('ETIMEDOUT'), 'NAS', 'nas:5000', { connectMs: 5000, headersMs: 1 }).detail, /within 5 s/);
    assert.match(upstreamFailure(withCode('UND_ERR_HEADERS_TIMEOUT'), 'NAS', 'nas:5000', timeouts).detail, /did not answer within 0\.5 s/);
    assert.match(upstreamFailure(withCode('UND_ERR_HEADERS_TIMEOUT'), 'NAS', 'nas:5000', { connectMs: 1, headersMs: 60_000 }).detail, /within 60 s/);
  });

  test('without the timeouts (upstream health) a timeout is said without its length', () => {
    const connect = upstreamFailure(withCode('ETIMEDOUT'), 'NAS', 'nas:5000');
    assert.equal(connect.code, 'upstream_connect_timeout');
    assert.equal(connect.detail, 'NAS at nas:5000 did not accept a connection in time. Is the machine up, or is a firewall dropping the connection?');
    assert.equal(upstreamFailure(withCode('UND_ERR_CONNECT_TIMEOUT'), 'NAS', 'nas:5000').detail, connect.detail);
    assert.match(upstreamFailure(withCode('UND_ERR_HEADERS_TIMEOUT'), 'NAS', 'nas:5000').detail, /did not answer in time\.$/);
  });

  test('an unknown code is an upstream_reset that names the code; no code at all says only "failed"', () => {
    const unknown = fail(withCode('EWHATEVER'));
    assert.equal(unknown.code, 'upstream_reset');
    assert.equal(unknown.detail, 'Talking to Jellyfin at 10.0.0.4:8096 failed (EWHATEVER).');
    for (const error of [new Error('no code'), null, undefined, 'a string', 42, { code: 7 }]) {
      const failure = fail(error);
      assert.equal(failure.code, 'upstream_reset');
      assert.equal(failure.detail, 'Talking to Jellyfin at 10.0.0.4:8096 failed.');
    }
  });

  test('real undici errors are classified by what they mean', () => {
    const cases: [Error, ProxyErrorCode][] = [
      [new undiciErrors.ConnectTimeoutError(), 'upstream_connect_timeout'],
      [new undiciErrors.HeadersTimeoutError(), 'upstream_timeout'],
      [new undiciErrors.BodyTimeoutError(), 'upstream_timeout'],
      [new undiciErrors.SocketError('other side closed'), 'upstream_reset'],
      [new undiciErrors.ClientDestroyedError(), 'upstream_reset'],
      [new undiciErrors.ClientClosedError(), 'upstream_reset'],
      [new undiciErrors.InformationalError('bad'), 'upstream_bad_response'],
      [new undiciErrors.ResponseContentLengthMismatchError(), 'upstream_bad_response'],
      [new undiciErrors.ResponseExceededMaxSizeError(), 'upstream_bad_response'],
      // undici 7 builds these without a code (its llhttp table is keyed the other way round).
      [new undiciErrors.HTTPParserError('Response does not match the HTTP/1.1 protocol (Invalid status code)'), 'upstream_bad_response'],
      // (At run time the constructor is (message, code, data); the types only know (message, options).)
      [new (undiciErrors.HTTPParserError as unknown as new (message: string, code: string) => Error)('Response does not match the HTTP/1.1 protocol', 'INVALID_CONSTANT'), 'upstream_bad_response'],
    ];
    for (const [error, expected] of cases) assert.equal(fail(error).code, expected, `${error.name} (${(error as { code?: string }).code})`);
  });

  test('a real refused connection from the socket layer is upstream_refused', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const socket = connect({ host: '127.0.0.1', port });
    const [error] = (await once(socket, 'error').catch((e: unknown) => [e])) as [Error];
    assert.equal(fail(error).code, 'upstream_refused');
  });

  test('every failure has a status and a title; 5xx only for upstream trouble and answers not passed on', () => {
    for (const [code, spec] of Object.entries(proxyErrors)) {
      assert.ok(spec.title.length > 0, code);
      assert.ok(spec.status >= 400 && spec.status < 600, code);
      // response_invalid: the service answered, but not in a form Gatehouse can pass on (a 502 that
      // is deliberately not upstream_*, so upstream health never counts it).
      // sign_in_unavailable: the forward-auth server (not the service) did not answer: 503.
      // no_upstream: every upstream is drained; nothing failed, so no upstream's health counts it.
      assert.equal(spec.status >= 500, code.startsWith('upstream_') || code === 'response_invalid' || code === 'sign_in_unavailable' || code === 'no_upstream', code);
      assert.equal(new ProxyError(code as ProxyErrorCode, 'x').status, spec.status);
    }
    assert.equal(proxyErrors.upstream_connect_timeout.status, 504);
    assert.equal(proxyErrors.upstream_timeout.status, 504);
    assert.equal(proxyErrors.headers_too_large.status, 431);
    assert.equal(proxyErrors.request_timeout.status, 408);
  });

  test('a ProxyError is an Error whose message is the user-facing detail', () => {
    const error = new ProxyError('no_route', 'No route is set up for x.example.');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ProxyError');
    assert.equal(error.message, error.detail);
  });
});
