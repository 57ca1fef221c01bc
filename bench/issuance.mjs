// Leaf issuance: how long after a local-CA route is added (admin API, tls mode "local") the HTTPS
// listener serves a certificate for its name, measured on the bench's Gatehouse after the load.
// For each new route: the API's answer time, and the time until a TLS handshake with that name as
// SNI gets a certificate carrying it (polled every few milliseconds). addRoute answers once the
// certificate is issued, so the API's time is issuance plus saving the route. For scale, issueLeaf
// with a freshly generated key (no API, no listener) is timed in this process: Gatehouse keeps
// spare keys made ahead, so a route normally does not wait for key generation.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { callApi, waitForCertificate } from './gatehouse.mjs';
import { median } from './report.mjs';
import { loadCertModules } from './tls.mjs';

/** New routes per measurement: the issue asks for a median over at least 15. */
export const ISSUANCE_ROUTES = 15;

/**
 * Adds `count` routes issue-N.home.arpa to Gatehouse (one at a time, each waited for) and returns
 * {count, medianMs, maxMs, apiMedianMs, aloneMedianMs, samples: [{name, apiMs, servedMs}]};
 * `medianMs` is the median time from the request to the certificate served.
 */
export async function measureIssuance(gatehouse, backendPort, { count = ISSUANCE_ROUTES, tmp }) {
  const samples = [];
  const stamp = Date.now().toString(36);
  for (let i = 1; i <= count; i++) {
    const name = `issue-${stamp}-${i}.home.arpa`;
    const started = performance.now();
    const added = await callApi(new URL('/api/routes', gatehouse.adminUrl), gatehouse.token, 'POST', {
      names: [name],
      upstream: `127.0.0.1:${backendPort}`,
      tls: { mode: 'local' },
    });
    const apiMs = performance.now() - started;
    if (added.status < 200 || added.status >= 300) throw new Error(`POST /api/routes for ${name} answered ${added.status}: ${added.text.slice(0, 300)}`);
    await waitForCertificate(gatehouse.tlsPort, name, { timeoutMs: 10_000, intervalMs: 2 });
    samples.push({ name, apiMs, servedMs: performance.now() - started });
  }
  const served = samples.map((s) => s.servedMs);
  return {
    count,
    medianMs: median(served),
    maxMs: Math.max(...served),
    apiMedianMs: median(samples.map((s) => s.apiMs)),
    aloneMedianMs: await issuanceAlone(count, tmp),
    samples,
  };
}

/** Median ms of issueLeaf alone with a throwaway CA, in this process (on the load CPU). */
async function issuanceAlone(count, tmp) {
  const { LocalCa, issueLeaf } = await loadCertModules();
  const dir = mkdtempSync(join(tmp, 'issuance-ca-'));
  try {
    const ca = await LocalCa.open(dir);
    const times = [];
    for (let i = 1; i <= count; i++) {
      const started = performance.now();
      await issueLeaf(ca, [`alone-${i}.home.arpa`]);
      times.push(performance.now() - started);
    }
    return median(times);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
