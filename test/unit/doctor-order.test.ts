// The route doctor's running order, apart from any network: the report follows DNS → port →
// certificate → upstream → access whatever order the steps finish in, the certificate waits for the
// port step and is skipped (with why) when the proxy or its HTTPS port failed, a step that never
// finishes becomes a failure at the deadline instead of holding the report, a step that throws
// becomes a failure that says so, and the verdict and summary follow the worst check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DoctorCheck, DoctorStep } from '../../shared/insight.js';
import { isPublicName, askedName } from '../../src-main/core/insight/doctor-dns.js';
import { knockAddress } from '../../src-main/core/insight/doctor-port.js';
import { certificateBlockedBy } from '../../src-main/core/insight/doctor-route.js';
import { runDoctorSteps, summaryOf, verdictOf, type DoctorStepRun } from '../../src-main/core/insight/doctor.js';
import { tlsRoute } from '../helpers/test-certificates.js';

function check(step: DoctorStep, state: DoctorCheck['state'], id = `${step}:x`, says = `${step} says ${state}`): DoctorCheck {
  return { id, step, title: `${step} check`, state, says, fix: state === 'pass' ? null : 'do this', durationMs: 1 };
}

const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stepRun(step: DoctorStep, state: DoctorCheck['state'], delayMs: number, log: string[] = []): DoctorStepRun {
  return {
    step,
    title: `${step} step`,
    run: async () => {
      log.push(`start ${step}`);
      await after(delayMs);
      log.push(`end ${step}`);
      return [check(step, state)];
    },
  };
}

describe('the doctor’s order', () => {
  test('the report follows DNS, port, certificate, upstream, access whatever finishes first; independent steps run together', async () => {
    const log: string[] = [];
    const runs = [stepRun('access', 'pass', 5, log), stepRun('upstream', 'pass', 10, log), stepRun('dns', 'pass', 60, log), stepRun('port', 'pass', 30, log), stepRun('certificate', 'pass', 1, log)];
    const report = await runDoctorSteps(runs, { routeId: 'r1', visitor: '203.0.113.10' });
    assert.deepEqual(report.checks.map((c) => c.step), ['dns', 'port', 'certificate', 'upstream', 'access']);
    // Side by side: every step started before the first one ended.
    assert.deepEqual(log.slice(0, 5).sort(), ['start access', 'start certificate', 'start dns', 'start port', 'start upstream']);
    assert.deepEqual(log.slice(5, 10), ['end certificate', 'end access', 'end upstream', 'end port', 'end dns']);
    assert.equal(report.verdict, 'ok');
    assert.equal(report.routeId, 'r1');
    assert.equal(report.visitor, '203.0.113.10');
    assert.equal(report.summary, 'Every check passed: the route works from the name to the app.');
  });

  test('a step that needs an earlier one waits for it, and is skipped with why when it failed', async () => {
    const route = tlsRoute('r2', ['app.home.arpa']);
    const findings = { https: null as { address: string; port: number } | null };
    let certificateRan = false;
    const runs: DoctorStepRun[] = [
      { step: 'port', title: 'port', run: async () => [check('port', 'fail', 'port:proxy', 'The proxy is stopped.')] },
      {
        step: 'certificate',
        title: 'The certificate served for the names',
        after: ['port'],
        blockedBy: certificateBlockedBy(route, findings),
        run: async () => {
          certificateRan = true;
          return [check('certificate', 'pass')];
        },
      },
      stepRun('upstream', 'pass', 1),
    ];
    const report = await runDoctorSteps(runs, { routeId: 'r2', visitor: '10.0.0.5' });
    assert.equal(certificateRan, false);
    const skipped = report.checks.find((c) => c.step === 'certificate')!;
    assert.equal(skipped.state, 'skipped');
    assert.match(skipped.says, /proxy is not running/);
    assert.equal(skipped.title, 'The certificate served for the names');
    assert.equal(report.verdict, 'broken');
    assert.equal(report.summary, 'The proxy is stopped.', 'the summary is the first failure');
  });

  test('the certificate step: skipped without HTTPS, skipped when the HTTPS port failed, run when it answered', () => {
    const findings = { https: null as { address: string; port: number } | null };
    assert.match(certificateBlockedBy(tlsRoute('a', ['a.home.arpa'], { mode: 'none' }), findings)([]) ?? '', /plain HTTP only/);
    const local = certificateBlockedBy(tlsRoute('b', ['b.home.arpa']), findings);
    assert.match(local([check('port', 'pass', 'port:http'), check('port', 'fail', 'port:https')]) ?? '', /HTTPS port did not answer/);
    findings.https = { address: '127.0.0.1', port: 8443 };
    assert.equal(local([check('port', 'pass', 'port:http'), check('port', 'warn', 'port:https')]), null, 'a port reachable only here still serves a certificate to check');
  });

  test('a step that never finishes fails at the deadline; the others keep their results', async () => {
    const runs: DoctorStepRun[] = [{ step: 'dns', title: 'The names resolve', run: () => new Promise<DoctorCheck[]>(() => {}) }, stepRun('access', 'pass', 1)];
    const started = Date.now();
    const report = await runDoctorSteps(runs, { routeId: 'r3', visitor: 'x', deadlineMs: 200 });
    assert.ok(Date.now() - started < 3000, 'ended at the deadline, not never');
    const late = report.checks.find((c) => c.step === 'dns')!;
    assert.equal(late.state, 'fail');
    assert.equal(late.id, 'dns:late');
    assert.match(late.says, /did not finish within 0\.2 s/);
    assert.equal(report.checks.find((c) => c.step === 'access')?.state, 'pass');
  });

  test('a step that throws becomes a failure that says why', async () => {
    const runs: DoctorStepRun[] = [{ step: 'upstream', title: 'The upstreams answer', run: async () => Promise.reject(new Error('boom')) }];
    const report = await runDoctorSteps(runs, { routeId: 'r4', visitor: 'x' });
    assert.equal(report.checks[0]?.state, 'fail');
    assert.match(report.checks[0]!.says, /could not run: boom/);
  });

  test('verdict and summary: failures win, then warnings; skipped checks are fine', () => {
    assert.equal(verdictOf([check('dns', 'pass'), check('certificate', 'skipped')]), 'ok');
    assert.equal(verdictOf([check('dns', 'pass'), check('port', 'warn')]), 'warnings');
    assert.equal(verdictOf([check('dns', 'warn'), check('port', 'fail')]), 'broken');
    assert.equal(summaryOf([check('dns', 'warn', 'a', 'first warning'), check('port', 'warn', 'b', 'second')]), 'It works, with 2 warnings: first warning');
    assert.equal(summaryOf([check('dns', 'warn', 'a', 'w'), check('upstream', 'fail', 'b', 'the failure')]), 'the failure');
  });
});

describe('the doctor’s small judgements', () => {
  test('public names are asked in public DNS; home-network names are not', () => {
    for (const name of ['jellyfin.example.net', 'cloud.my-family.de', '*.home.example.org']) assert.equal(isPublicName(name), true, name);
    for (const name of ['jellyfin.home.arpa', 'nas.lan', 'pve.local', 'router.internal', 'localhost', 'media', 'app.localhost']) assert.equal(isPublicName(name), false, name);
  });

  test('a wildcard is checked through one sample name below it', () => {
    assert.equal(askedName('*.apps.home.arpa'), 'doctor-check.apps.home.arpa');
    assert.equal(askedName('nas.home.arpa'), 'nas.home.arpa');
  });

  test('the port is knocked on where other devices knock', () => {
    assert.equal(knockAddress('0.0.0.0', ['192.168.1.20', 'fd00::2']), '192.168.1.20');
    assert.equal(knockAddress('0.0.0.0', []), '127.0.0.1');
    assert.equal(knockAddress('127.0.0.1', ['192.168.1.20']), '127.0.0.1');
    assert.equal(knockAddress('192.168.1.20', ['192.168.1.20', '10.0.0.2']), '192.168.1.20');
  });
});
