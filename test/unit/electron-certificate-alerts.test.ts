// When the desktop app announces a certificate in trouble: once per certificate and trouble, at
// launch too, several in one notification, again for a renewed certificate that nears its own end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcmeProblem, AcmeRouteState } from '../../shared/acme.js';
import type { Route } from '../../shared/model.js';
import type { RouteCertificate } from '../../shared/status.js';
import { CertificateAlerts } from '../../src-main/electron/certificate-alerts.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const DAY = 86_400_000;

function route(id: string, title?: string): Route {
  return sampleRoute({ id, ...(title ? { title } : {}), names: [`${id}.home.arpa`], tls: { mode: 'custom', certificateId: 'c1', acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } });
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

  describe('ACME certificates', () => {
    const portClosed: AcmeProblem = {
      code: 'port_closed',
      message: "Let's Encrypt could not connect to port 80 on 203.0.113.7 for wiki.example.com: nothing accepted the connection.",
      fix: 'Forward port 80 on your router to this machine, or use the DNS challenge.',
      details: '{"type":"urn:ietf:params:acme:error:connection","detail":"203.0.113.7: Fetching http://wiki.example.com/.well-known/acme-challenge/x: Connection refused"}',
      retryAt: null,
    };
    // A 45-day certificate issued 30 days ago: 15 days left, `expiring` by its dates alone.
    const issued = NOW - 30 * DAY;
    const acmeState = (extra: Partial<AcmeRouteState> = {}): AcmeRouteState => ({
      accountId: 'le',
      challenge: 'http-01',
      dnsProviderId: null,
      profile: null,
      ordering: false,
      renewal: { at: new Date(NOW + 60_000).toISOString(), source: 'lifetime', reason: 'Two thirds into its 45-day life (21 Nov).', window: null },
      lastAttempt: { at: new Date(issued).toISOString(), ok: true, problem: null },
      failures: 0,
      preflight: null,
      ...extra,
    });
    const failedAttempt = (failures: number, problem: AcmeProblem | null = portClosed) => acmeState({ lastAttempt: { at: new Date(NOW).toISOString(), ok: false, problem }, failures });
    const acme = (state: RouteCertificate['state'], notAfterMs: number, acmeRoute: AcmeRouteState, extra: Partial<RouteCertificate> = {}) =>
      certificate('wiki', state, notAfterMs, { mode: 'acme', issuer: "CN=Let's Encrypt R11", notBefore: new Date(issued).toISOString(), acme: acmeRoute, ...extra });
    const routes = [route('wiki', 'Wiki')];

    it('says nothing while a short certificate is in its last weeks but its renewal is on time', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      assert.equal(alerts.update([acme('expiring', NOW + 15 * DAY, acmeState())], routes), null);
      assert.equal(alerts.update([acme('expiring', NOW + 15 * DAY, acmeState({ ordering: true, renewal: { at: new Date(NOW - 3 * 60 * 60_000).toISOString(), source: 'lifetime', reason: '', window: null } }))], routes), null, 'an order under way is not late');
    });

    it('announces a renewal that is over an hour late, with the days left', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      const late = acmeState({ renewal: { at: new Date(NOW - 2 * 60 * 60_000).toISOString(), source: 'lifetime', reason: '', window: null } });
      assert.deepEqual(alerts.update([acme('expiring', NOW + 15 * DAY, late)], routes), {
        title: 'Wiki: certificate expiring',
        body: 'The certificate of Wiki expires in 15 days and its renewal is late; open the Certificates page.',
        routeIds: ['wiki'],
      });
    });

    it('announces a failed renewal once per failure streak, with the plain sentence and never the raw details', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      // The service reports a failed renewal as `expiring` even 60 days out: the route stays served.
      const alert = alerts.update([acme('expiring', NOW + 60 * DAY, failedAttempt(1), { problem: { code: 'acme_port_closed', message: portClosed.message, fix: portClosed.fix! } })], routes);
      assert.deepEqual(alert, {
        title: 'Wiki: certificate not renewed',
        body: `Gatehouse could not renew the certificate of Wiki. ${portClosed.message} ${portClosed.fix} The current one is still served and expires in 60 days.`,
        routeIds: ['wiki'],
      });
      assert.doesNotMatch(alert.body, /urn:ietf|Connection refused|acme-challenge/);
      assert.equal(alerts.update([acme('expiring', NOW + 60 * DAY, failedAttempt(2))], routes), null, 'the second failure of the streak');
      assert.equal(alerts.update([acme('expiring', NOW + 60 * DAY, failedAttempt(5))], routes), null, 'and the fifth');
    });

    it('says once that a renewal succeeded after a failure, and starts a new streak after that', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      assert.ok(alerts.update([acme('expiring', NOW + 10 * DAY, failedAttempt(1))], routes));
      assert.equal(alerts.update([acme('expiring', NOW + 10 * DAY, failedAttempt(3))], routes), null);
      const renewed = () => acme('valid', NOW + 45 * DAY, acmeState({ lastAttempt: { at: new Date(NOW).toISOString(), ok: true, problem: null }, renewal: { at: new Date(NOW + 30 * DAY).toISOString(), source: 'lifetime', reason: '', window: null } }));
      assert.deepEqual(alerts.update([renewed()], routes), {
        title: 'Wiki: certificate renewed',
        body: 'Gatehouse renewed the certificate of Wiki after 3 failed attempts; it is valid for 45 more days.',
        routeIds: ['wiki'],
      });
      assert.equal(alerts.update([renewed()], routes), null, 'said once');
      assert.match(alerts.update([acme('expiring', NOW + 45 * DAY, failedAttempt(1))], routes)?.title ?? '', /not renewed/, 'a later failure is a new streak');
    });

    it('announces an expired certificate with the failure that kept it from renewing', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      assert.ok(alerts.update([acme('expiring', NOW + DAY / 2, failedAttempt(30))], routes));
      const alert = alerts.update([acme('expired', NOW - 60_000, failedAttempt(31))], routes);
      assert.equal(alert?.title, 'Wiki: certificate expired');
      assert.equal(alert?.body, `The certificate of Wiki has expired; browsers refuse it. ${portClosed.message} ${portClosed.fix}`);
    });

    it('announces an expired certificate without a failure, saying where to renew it', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      const alert = alerts.update([acme('expired', NOW - DAY, acmeState())], routes);
      assert.equal(alert?.body, 'The certificate of Wiki has expired; browsers refuse it. Renew it on the Certificates page.');
    });

    it('announces a first order that failed, and says once when it finally worked', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      const none = { names: [], notBefore: null, notAfter: null, issuer: null, fingerprintSha256: null };
      const alert = alerts.update([acme('error', NOW, failedAttempt(1), none)], routes);
      assert.deepEqual(alert, { title: 'Wiki: certificate problem', body: `Wiki: ${portClosed.message} ${portClosed.fix}`, routeIds: ['wiki'] });
      assert.equal(alerts.update([acme('error', NOW, failedAttempt(2), none)], routes), null);
      assert.equal(alerts.update([acme('valid', NOW + 90 * DAY, acmeState())], routes)?.body, 'Gatehouse issued the certificate of Wiki after 2 failed attempts; it is valid for 90 more days.');
    });

    it('names the Certificates page when a failed attempt carries no problem', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      assert.equal(alerts.update([acme('expiring', NOW + 20 * DAY, failedAttempt(1, null))], routes)?.body, 'Gatehouse could not renew the certificate of Wiki. Open the Certificates page to see why. The current one is still served and expires in 20 days.');
    });

    it('forgets a failing route that left ACME: no "renewed" for it later', () => {
      const alerts = new CertificateAlerts({ now: () => NOW });
      assert.ok(alerts.update([acme('expiring', NOW + 20 * DAY, failedAttempt(1))], routes));
      assert.equal(alerts.update([certificate('wiki', 'valid', NOW + 300 * DAY, { mode: 'local' })], routes), null);
      assert.equal(alerts.update([acme('valid', NOW + 90 * DAY, acmeState())], routes), null);
    });
  });
});
