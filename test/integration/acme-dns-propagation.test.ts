// The propagation wait against real name servers: it returns once every server answers the value,
// and otherwise fails after its limit with a record_not_visible sentence naming each server that
// did not see it and what it answered instead: other values, nothing at all (a dead server), or
// when the order was cancelled, at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { waitForTxt } from '../../src-main/core/certs/acme/dns/propagation.js';
import { needBind9, startBind9, startSilentDnsServer, type Bind9 } from '../helpers/bind9.js';

describe('waiting for a TXT record to be visible', { skip: needBind9() }, () => {
  let bind: Bind9;
  let silent: Awaited<ReturnType<typeof startSilentDnsServer>>;
  before(async () => {
    bind = await startBind9();
    silent = await startSilentDnsServer();
  });
  after(async () => {
    await bind?.close();
    await silent?.close();
  });

  test('resolves once the value appears, even when it appears after the wait began', async () => {
    const waiting = waitForTxt('_acme-challenge.late.test.example', 'late-value', { resolvers: [bind.address], timeoutMs: 20_000, intervalMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    await bind.update('test.example', ['update add _acme-challenge.late.test.example. 60 TXT "late-value"']);
    const seen = await waiting;
    assert.deepEqual(seen.servers, [bind.address]);
    assert.ok(seen.durationMs >= 500, `seen after ${seen.durationMs} ms, before the record existed`);
  });

  test('a server holding other values is named with what it answered', async () => {
    await bind.update('test.example', ['update add _acme-challenge.other.test.example. 60 TXT "old-value"']);
    const error = await waitForTxt('_acme-challenge.other.test.example', 'new-value', { resolvers: [bind.address], timeoutMs: 1000, intervalMs: 200 }).then(
      () => assert.fail('expected the wait to give up'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.code, 'record_not_visible');
    assert.equal(error.message, `The TXT record _acme-challenge.other.test.example was not visible on ${bind.address} (it answered other values ("old-value")) after 1 s.`);
  });

  test('a dead server is named, and the wait is bounded by its limit', async () => {
    await bind.update('test.example', ['update add _acme-challenge.half.test.example. 60 TXT "half-value"']);
    const started = Date.now();
    const error = await waitForTxt('_acme-challenge.half.test.example', 'half-value', { resolvers: [bind.address, silent.address], timeoutMs: 2000, queryTimeoutMs: 500, intervalMs: 200 }).then(
      () => assert.fail('expected the wait to give up'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof DnsProviderError);
    assert.equal(error.message, `The TXT record _acme-challenge.half.test.example was not visible on ${silent.address} (it did not answer) after 2 s.`);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.ok(silent.queries() > 0);
  });

  test('a cancelled order stops the wait', async () => {
    const controller = new AbortController();
    const waiting = waitForTxt('_acme-challenge.never.test.example', 'v', { resolvers: [bind.address], timeoutMs: 60_000, intervalMs: 500, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled')), 300);
    await assert.rejects(waiting, /cancelled/);
  });
});
