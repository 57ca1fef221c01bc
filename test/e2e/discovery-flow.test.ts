// Issue 5, item 6, the last test: discover → Map it → open https://<name>, end to end in Chromium.
// Everything runs in one `unshare -rn` namespace with a LAN address (test/fixtures/discovery/
// map-flow.ts, which prints what it saw as one JSON line): python-zeroconf announces a fake Home
// Assistant, the real `gatehouse serve` (mDNS on only there) finds and identifies it, the Discovery
// page maps it in two clicks, independent resolvers find the published name over mDNS, and Chromium,
// trusting Gatehouse's CA through its NSS database, opens the name over HTTPS at the address mDNS
// gave. This file itself stays on the host network and sends no multicast.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { PublishedName } from '../../shared/status.js';
import { CHROMIUM_PATH, pngInfo, VIEWPORT } from '../helpers/browser.js';
import { inNamespace, needNamespaceTools, scenario, scenarioResult } from '../helpers/netns.js';
import { needTools } from '../helpers/tools.js';

const LAN_ADDRESS = '10.88.0.1';
const NAME = 'homeassistant.local';

interface FlowResult {
  clicks: number;
  clicksFromList: number;
  identifiedAs: string;
  listedRow: { service: string; addresses: string; port: string; types: string };
  screenshot: string;
  prefilled: { title: string; names: string; upstream: string; localCa: boolean; publishOnLan: boolean };
  routes: { title?: string; names: string[]; upstream: string; tlsMode: string; publishOnLan: boolean; websocket: boolean }[];
  published: PublishedName;
  mappedRouteIds: string[];
  routeIds: string[];
  appPort: number;
  resolvedWhileAppAnnounces: string[];
  resolved: string[];
  digAnswer: string | null;
  certificate: { subject: string; issuer: string; names: string };
  caCommonName: string;
  opened: { url: string; status: number; title: string; hasAppElement: boolean; issuer: string | null; subjectName: string | null; protocol: string | null; appRequests: string[] };
  timings: Record<string, number>;
}

function skipReason(): string | false {
  return needNamespaceTools() || needTools([CHROMIUM_PATH, 'chromium'], ['certutil', 'libnss3-tools']);
}

describe('discover → Map it → https://<name>, in a network namespace', { skip: skipReason() }, () => {
  test('a Home Assistant announced on the LAN becomes a trusted, resolvable https://homeassistant.local in two clicks', async (t) => {
    const startedAt = Date.now();
    const result = scenarioResult<FlowResult>(await inNamespace(scenario('map-flow.ts'), { network: 'lan-address', env: { GATEHOUSE_MDNS: 'on' }, timeoutMs: 150_000 }));
    t.diagnostic(JSON.stringify(result));

    // Discovered and identified.
    assert.match(result.identifiedAs, /^Home Assistant/);
    assert.match(result.listedRow.service, /^Home\s*ha-box\.local$/);
    assert.equal(result.listedRow.addresses, LAN_ADDRESS);
    assert.equal(result.listedRow.port, String(result.appPort));

    // Map it prefilled the form as the preset says; at most three clicks from the list to the route.
    assert.deepEqual(result.prefilled, { title: 'Home Assistant', names: NAME, upstream: `http://${LAN_ADDRESS}:${result.appPort}`, localCa: true, publishOnLan: true });
    assert.ok(result.clicksFromList <= 3, `${result.clicksFromList} clicks from the Discovery list to a saved route`);
    assert.equal(result.clicksFromList, 2, 'Map it, Save route');
    assert.deepEqual(result.routes, [{ title: 'Home Assistant', names: [NAME], upstream: `http://${LAN_ADDRESS}:${result.appPort}`, tlsMode: 'local', publishOnLan: true, websocket: true }]);
    assert.deepEqual(result.mappedRouteIds, result.routeIds, 'the Discovery list shows the service as mapped to the new route');

    // Published and resolvable over mDNS at the LAN address, not loopback.
    assert.equal(result.published.state, 'announced', `published: ${JSON.stringify(result.published)}`);
    assert.deepEqual(result.published.addresses, [LAN_ADDRESS]);
    assert.deepEqual(result.resolvedWhileAppAnnounces, [LAN_ADDRESS]);
    assert.deepEqual(result.resolved, [LAN_ADDRESS], 'python-zeroconf resolves the name once only Gatehouse answers for it');
    assert.match(result.digAnswer ?? '(no answer section)', /^homeassistant\.local\. 10 IN A 10\.88\.0\.1$/, "Gatehouse's one-shot (legacy unicast) answer to dig");

    // Opened over HTTPS: trusted through the NSS database, Gatehouse's certificate, the app's page.
    assert.match(result.certificate.issuer, new RegExp(`CN=${result.caCommonName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'a Node client trusting only the CA verifies it');
    assert.match(result.certificate.names, /DNS:homeassistant\.local/);
    assert.equal(result.opened.status, 200);
    assert.equal(result.opened.issuer, result.caCommonName, 'Chromium got the certificate from the CA it trusts');
    assert.equal(result.opened.subjectName, NAME);
    assert.equal(result.opened.title, 'Home Assistant');
    assert.ok(result.opened.hasAppElement, "the fake Home Assistant's page");
    // The route's health check (Home Assistant's preset asks for /manifest.json) shares the app's
    // request log with the browser, so the page's own request is looked for, not the first one.
    assert.ok(result.opened.appRequests.includes('/'), `the page came from the app through the proxy: ${JSON.stringify(result.opened.appRequests)}`);

    // The Discovery page with the real discovered service, as a test artifact.
    const shot = await pngInfo(result.screenshot);
    assert.ok(shot.width >= VIEWPORT.width && shot.height >= VIEWPORT.height, `${result.screenshot}: ${JSON.stringify(shot)}`);
    assert.ok((await stat(result.screenshot)).mtimeMs >= startedAt - 1000, 'the screenshot is from this run');
  });
});
