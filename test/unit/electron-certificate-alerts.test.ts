// When the desktop app announces a certificate in trouble: once per certificate and trouble, at
// launch too, several in one notification, again for a renewed certificate that nears its own end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from '../../shared/model.js';
import type { RouteCertificate } from '../../shared/status.js';
import { CertificateAlerts } from '../../src-main/electron/certificate-alerts.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const DAY = 86_400_000;

function route(id: string, title?: string): Route {
  return sampleRoute({ id, ...(title ? { title } : {}), names: [`${id}.home.arpa`], tls: { mode: 'custom', certificateId: 'c1', acme: null, redirectHttp: false, hsts: false } });
}

function certificate(routeId: string, state: RouteCertificate['state'], notAfterMs = NOW + 5 * DAY, extra: Partial<RouteCertificate> = {}): RouteCertificate {
  return {
    routeId,
    mode: 'custom',
    state,
    names: [`${routeId}.home.arpa`],
    issuer: 'CN=Example CA',
    notBefore: new Date(NOW - 300 * DAY).toISOString(),
    notAfter: new Date(notAfterMs).toISOString(),
    fingerprintSha256: 'AA:BB',
    renewsAt: null,
    problem: null,
    acme: null,
    ...extra,
  };
}

describe('CertificateAlerts', () => {
  it('announces a certificate already expiring at launch, with the days left and what to do', () => {
    const alerts = new CertificateAlerts({ now: () => NOW });
    const alert = alerts.update([certificate('wiki', 'expiring')], [route('wiki', 'Wiki')]);
    assert.deepEqual(alert, {
      title: 'Wiki: certificate expiring',
      body: 'The certificate of Wiki expires in 5 days. Import a renewed certificate on the Certificates page.',
      routeIds: ['wiki'],
    });
  });

  it('says nothing for valid, pending or HTTP-only routes', () => {
    const alerts = new CertificateAlerts({ now: () => NOW });
    const states = ['valid', 'pending', 'none'] as const;
    assert.equal(alerts.update(states.map((state, i) => certificate(`r${i}`, state)), []), null);
  });

  it('announces the same trouble once, however often it is reported', () => {
    const alerts = new CertificateAlerts({ now: () => NOW });
    assert.ok(alerts.update([certificate('wiki', 'expiring')], []));
    assert.equal(alerts.update([certificate('wiki', 'expiring')], []), null);
    assert.equal(alerts.update([certificate('wiki', 'expiring')], []), null);
  });

  it('announces again when the trouble gets worse, or when a new certificate nears its own end', () => {
    const alerts = new CertificateAlerts({ now: () => NOW });
    assert.ok(alerts.update([certificate('wiki', 'expiring')], []));
    assert.match(alerts.update([certificate('wiki', 'expired', NOW - DAY)], [])?.title ?? '', /certificate expired/);
    assert.equal(alerts.update([certificate('wiki', 'valid', NOW + 300 * DAY)], []), null, 'a renewed certificate is fine');
    assert.ok(alerts.update([certificate('wiki', 'expiring', NOW + 300 * DAY)], []), 'the renewed one nearing its end is news');
  });

  it('names every route in one notification when several are in trouble at once', () => {
    const alerts = new CertificateAlerts({ now: () => NOW });
    const alert = alerts.update(
      [
        certificate('wiki', 'expiring'),
        certificate('nas', 'error', NOW, { mode: 'local', problem: { code: 'issue_failed', message: 'Issuing failed: the disk is full.', fix: 'Free some space.' } }),
      ],
      [route('wiki', 'Wiki')],
    );
    assert.equal(alert?.title, '2 certificates need attention');
    assert.deepEqual(alert?.routeIds, ['wiki', 'nas']);
    assert.match(alert?.body ?? '', /Wiki expires in 5 days/);
    assert.match(alert?.body ?? '', /nas\.home\.arpa: Issuing failed: the disk is full\. Free some space\./, 'a route not in the list is named by its certificate');
  });

  it('says a local-CA certificate in the expiring window could not be renewed', () => {
    const alerts = new CertificateAlerts({ now: () => NOW });
    const alert = alerts.update([certificate('wiki', 'expiring', NOW + 12 * 60 * 60 * 1000, { mode: 'local' })], [route('wiki')]);
    assert.equal(alert?.body, 'The certificate of wiki.home.arpa expires within a day. Gatehouse could not renew it; open the Certificates page.');
  });
});
