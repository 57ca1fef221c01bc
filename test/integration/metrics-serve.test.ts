// GET /metrics on the real `gatehouse serve` (issue 17): refused without the admin token or a
// session (401, like /api) and for a host that is not this machine's (421, the same guard), answered
// with the token and with a signed-in session in Prometheus's text format 0.0.4, and its numbers
// move when real requests go through the proxy to a real upstream (and to one that is down). The
// answer is read by the strict parser in test/helpers/prometheus-text.ts and by the Prometheus
// project's own Python client parser (Debian's python3-prometheus-client).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Route } from '../../shared/model.js';
import { adminRequest } from '../helpers/admin-requests.js';
import { PASSWORD, runSetPassword, signedInClient } from '../helpers/auth.js';
import { freePort } from '../helpers/ports.js';
import { parsePrometheusText, type ParsedFamily } from '../helpers/prometheus-text.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';
import { needTools } from '../helpers/tools.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

const PYTHON_PARSER = '/usr/lib/python3/dist-packages/prometheus_client/parser.py';

/** The value of the one sample of `name` with these labels; 0 when the series is not there yet. */
function value(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number {
  const found = [...families.values()].flatMap((f) => f.samples).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `one series of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

describe('GET /metrics on the admin port', () => {
  let serve: ServeProcess;
  let upstream: Upstream;
  let live: Route;
  let dead: Route;
  let deadAddress: string;

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
    upstream = await startEchoUpstream('metrics');
    deadAddress = `127.0.0.1:${await freePort()}`;
    const add = async (body: Record<string, unknown>) => {
      const answer = await serve.api('/api/routes', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      assert.equal(answer.status, 200, await answer.clone().text());
      return (await answer.json()) as Route;
    };
    live = await add({ title: 'Echo', names: ['echo.metrics.test', 'alias.metrics.test'], upstream: upstream.address });
    dead = await add({ title: 'Gone', names: ['gone.metrics.test'], upstream: deadAddress });
  });

  after(async () => {
    await serve?.stop();
    await upstream?.close();
  });

  async function scrape(): Promise<{ text: string; families: Map<string, ParsedFamily> }> {
    const answer = await serve.api('/metrics');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    const text = await answer.text();
    return { text, families: parsePrometheusText(text) };
  }

  test('without the token or a session: 401, as /api answers; with another host: 421', async () => {
    const bare = await fetch(new URL('/metrics', serve.adminUrl));
    assert.equal(bare.status, 401);
    assert.equal(bare.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
    assert.match(((await bare.json()) as { error: { message: string } }).error.message, /Authorization: Bearer/);
    const wrong = await fetch(new URL('/metrics', serve.adminUrl), { headers: { authorization: `Bearer ${serve.token.slice(0, -1)}x` } });
    assert.equal(wrong.status, 401);
    const port = Number(new URL(serve.adminUrl).port);
    const rebound = await adminRequest({ address: '127.0.0.1', port, path: '/metrics', headers: { host: 'evil.example', authorization: `Bearer ${serve.token}` } });
    assert.equal(rebound.status, 421);
    const posted = await serve.api('/metrics', { method: 'POST' });
    assert.equal(posted.status, 405);
  });

  test('a signed-in session may scrape, as it may call /api', async () => {
    const browser = await signedInClient(serve.adminUrl);
    const answer = await browser.request('/metrics');
    assert.equal(answer.status, 200);
    assert.ok(parsePrometheusText(answer.text).has('gatehouse_requests_total'));
  });

  test('counts move after real requests through the proxy; upstream health shows 1 and 0', async () => {
    assert.ok(serve.proxyPort);
    const liveLabels = { route_id: live.id, route: 'echo.metrics.test' };
    const deadLabels = { route_id: dead.id, route: 'gone.metrics.test' };
    const before = (await scrape()).families;
    assert.equal(value(before, 'gatehouse_proxy_running', {}), 1);
    assert.equal(value(before, 'gatehouse_routes', {}), 2);
    const requestsBefore = value(before, 'gatehouse_requests_total', liveLabels);

    for (let i = 0; i < 5; i++) {
      const answer = await requestThrough(serve.proxyPort, 'echo.metrics.test', `/hello/${i}`, { method: 'POST', body: 'x'.repeat(100) });
      assert.equal(answer.status, 200);
    }
    assert.equal((await requestThrough(serve.proxyPort, 'gone.metrics.test', '/')).status, 502);
    assert.equal((await requestThrough(serve.proxyPort, 'nobody.metrics.test', '/')).status, 404);

    // Health checks run on their own schedule: wait (bounded) until both upstreams have been judged.
    let families = (await scrape()).families;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      families = (await scrape()).families;
      const judged = families.get('gatehouse_upstream_up')!.samples.length === 2;
      if (judged && value(families, 'gatehouse_requests_total', liveLabels) >= requestsBefore + 5) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(value(families, 'gatehouse_requests_total', liveLabels), requestsBefore + 5);
    assert.ok(value(families, 'gatehouse_received_bytes_total', liveLabels) >= 500, 'request bodies counted');
    assert.ok(value(families, 'gatehouse_sent_bytes_total', liveLabels) > 0, 'answers counted');
    assert.equal(value(families, 'gatehouse_errors_total', liveLabels), 0);
    assert.equal(value(families, 'gatehouse_errors_total', deadLabels), 1);
    assert.ok(value(families, 'gatehouse_unmatched_requests_total', {}) >= 1);
    const p50 = value(families, 'gatehouse_request_duration_seconds', { ...liveLabels, quantile: '0.5' });
    assert.ok(p50 > 0 && p50 < 10, `p50 ${p50}s`);
    assert.equal(value(families, 'gatehouse_upstream_requests_total', { ...liveLabels, upstream: upstream.address }), 5);
    assert.equal(value(families, 'gatehouse_upstream_up', { ...liveLabels, upstream: upstream.address }), 1);
    assert.equal(value(families, 'gatehouse_upstream_up', { ...deadLabels, upstream: deadAddress }), 0);
    assert.equal(value(families, 'gatehouse_route_up', deadLabels), 0);
  });

  test("the Prometheus project's own parser reads the answer", { skip: needTools([PYTHON_PARSER, 'python3-prometheus-client']) }, async () => {
    const { text } = await scrape();
    const script = [
      'import sys, json',
      'from prometheus_client.parser import text_string_to_metric_families',
      'out = {}',
      'for family in text_string_to_metric_families(sys.stdin.read()):',
      '    for s in family.samples:',
      '        out.setdefault(s.name, []).append({"type": family.type, "labels": s.labels, "value": repr(s.value)})',
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, run.stderr);
    const read = JSON.parse(run.stdout) as Record<string, { type: string; labels: Record<string, string>; value: string }[]>;
    const ours = parsePrometheusText(text);
    const sampleCount = [...ours.values()].reduce((n, f) => n + f.samples.length, 0);
    assert.equal(Object.values(read).reduce((n, list) => n + list.length, 0), sampleCount, 'both parsers see every sample');
    const requests = read.gatehouse_requests_total!.find((s) => s.labels.route_id === live.id)!;
    assert.equal(requests.type, 'counter');
    assert.equal(Number(requests.value), value(ours, 'gatehouse_requests_total', { route_id: live.id }));
    assert.equal(read.gatehouse_request_duration_seconds![0]!.type, 'summary');
  });
});
