// The HTTPS part of a run: checking that each proxy serves bench.home.arpa over TLS as the
// comparison needs (TLS 1.3, the RSA 2048 leaf for the name, HTTP/2 by ALPN where it is measured,
// the backend's body), and printing the HTTPS results and the leaf issuance.
import { request } from 'node:https';
import { SMALL_BODY, SMALL_PATH, TLS_HOST } from './content.mjs';
import { fmt, formatHttpsRatios, formatHttpsTable } from './report.mjs';
import { handshake } from './tls.mjs';

/** One GET over TLS to 127.0.0.1 with SNI and Host `servername`: resolves {status, body}. */
export function httpsGet(port, path, servername, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, servername, headers: { host: servername }, agent: false, rejectUnauthorized: false, timeout: timeoutMs };
    const req = request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no HTTPS answer from 127.0.0.1:${port}${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Why `proxy`'s HTTPS port cannot be compared with the others, or null when it can: the handshake
 * must be TLS 1.3 with an RSA 2048 certificate for TLS_HOST, h2 must be offered by ALPN when the
 * proxy is measured over HTTP/2, and GET / must return the backend's body.
 */
export async function httpsProblem(proxy) {
  if (!proxy.tlsPort) return 'no HTTPS port';
  try {
    const seen = await handshake(proxy.tlsPort, TLS_HOST, { alpn: proxy.h2 ? ['h2', 'http/1.1'] : ['http/1.1'] });
    if (seen.protocol !== 'TLSv1.3') return `negotiated ${seen.protocol}, not TLSv1.3`;
    if (!seen.names.includes(TLS_HOST)) return `served a certificate for ${seen.names.join(', ') || 'no DNS name'}, not ${TLS_HOST}`;
    if (seen.keyType !== 'rsa' || seen.keyBits !== 2048) return `served a ${seen.keyType} ${seen.keyBits} certificate, not RSA 2048`;
    if (proxy.h2 && seen.alpn !== 'h2') return `does not offer HTTP/2 by ALPN (got ${seen.alpn ?? 'none'})`;
    const answer = await httpsGet(proxy.tlsPort, SMALL_PATH, TLS_HOST);
    if (answer.status !== 200 || answer.body !== SMALL_BODY) return `GET ${SMALL_PATH} over HTTPS answered HTTP ${answer.status} "${answer.body.slice(0, 80)}"`;
    return null;
  } catch (error) {
    return `HTTPS check failed: ${error.message}`;
  }
}

/** The leaf issuance line. */
export function describeIssuance(issuance) {
  if (!issuance) return 'Leaf issuance: not measured (Gatehouse HTTPS did not run)';
  if (issuance.error) return `Leaf issuance: not measured (${issuance.error})`;
  return (
    `Leaf issuance (${issuance.count} new local-CA routes, one at a time): certificate served ${fmt(issuance.medianMs, 0)} ms ` +
    `after POST /api/routes (median; max ${fmt(issuance.maxMs, 0)} ms); the API answered, certificate issued, after ` +
    `${fmt(issuance.apiMedianMs, 0)} ms (median); for scale, issueLeaf with a freshly generated RSA 2048 key takes ` +
    `${fmt(issuance.aloneMedianMs, 0)} ms in the bench process (Gatehouse keeps spare keys made ahead)`
  );
}

/**
 * The HTTPS section: the table (TLS over HTTP/1.1 with wrk, HTTP/2 with h2load), Gatehouse ÷ peer
 * ratios, and the issuance line. `rows`: {id, label, …summary, note}.
 */
export function describeHttps({ rows, results, peers, issuance, meta }) {
  const lines = [
    `\nHTTPS (${TLS_HOST} by SNI and Host, TLS 1.3, RSA 2048 leaf from a local CA for every server): TLS h1: wrk -c64 keep-alive ` +
      `GET ${SMALL_PATH}; h2: h2load -c16 -m8 (16 connections × 8 streams); median of ${meta.options.reps} × ${meta.options.durationS} s\n`,
    formatHttpsTable(rows),
  ];
  const ratioText = formatHttpsRatios(results, peers);
  if (ratioText) lines.push(`\nGatehouse ÷ peer, HTTPS (req/s: higher is better; p99, CPU/req: lower is better)\n${ratioText}`);
  lines.push('', describeIssuance(issuance));
  return lines.join('\n');
}
