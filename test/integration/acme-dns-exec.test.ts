// The exec hook with real scripts: one that calls nsupdate against bind9 (present puts the TXT in
// the zone, cleanup takes it out, the arguments and environment are as documented), one whose
// nsupdate is REFUSED (the sentence ends with the script's last stderr line), one that hangs (it is
// stopped at its time limit), one that floods its output (kept bounded), and a missing script.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DnsProvider } from '../../shared/acme.js';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { challengeRecord, createDnsProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { nsupdateHook } from '../helpers/dns-hook.js';

type Exec = Extract<DnsProvider, { kind: 'exec' }>;

async function rejection(promise: Promise<unknown>): Promise<DnsProviderError> {
  const error = await promise.then(() => assert.fail('expected the hook to fail'), (caught: unknown) => caught);
  assert.ok(error instanceof DnsProviderError, `expected a DnsProviderError, got ${String(error)}`);
  return error;
}

describe('exec hook', { skip: needBind9() }, () => {
  let bind: Bind9;
  let dir: string;
  const settings = (command: string, timeoutMs = 20_000): Exec => ({ id: 'ex', label: 'Script', propagationTimeoutMs: 10_000, kind: 'exec', command, timeoutMs });
  const script = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, 0o755);
    return path;
  };

  before(async () => {
    bind = await startBind9();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-hook-'));
  });
  after(async () => {
    await bind?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('present and cleanup run the script with the documented arguments and environment', async () => {
    const log = join(dir, 'calls.log');
    const hook = await script('hook.sh', nsupdateHook(bind, join(bind.dir, 'acme.key'), log));
    const provider = createDnsProvider(settings(hook), { credentials: null });
    const record = challengeRecord('*.www.test.example', 'exec-value');
    await provider.present(record);
    assert.deepEqual(await bind.dig('_acme-challenge.www.test.example', 'TXT'), ['"exec-value"']);
    await provider.cleanup(record);
    assert.deepEqual(await bind.dig('_acme-challenge.www.test.example', 'TXT'), []);
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
      'present|_acme-challenge.www.test.example.|exec-value|present|www.test.example|_acme-challenge.www.test.example.|exec-value',
      'cleanup|_acme-challenge.www.test.example.|exec-value|cleanup|www.test.example|_acme-challenge.www.test.example.|exec-value',
    ]);
  });

  test("a failing script's last stderr line ends the sentence", async () => {
    // The same script with the key that may not change TXT records: nsupdate says "update failed: REFUSED".
    const hook = await script('refused.sh', nsupdateHook(bind, join(bind.dir, 'web.key'), join(dir, 'refused.log')));
    const provider = createDnsProvider(settings(hook), { credentials: null });
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.equal(error.message, `The DNS hook ${hook} failed to create the TXT record _acme-challenge.www.test.example: update failed: REFUSED.`);
    assert.match(error.details ?? '', /exit 2/);
  });

  test('a script that hangs is stopped at its time limit', async () => {
    const hook = await script('hang.sh', '#!/bin/sh\nexec sleep 60\n');
    const provider = createDnsProvider(settings(hook, 1000), { credentials: null });
    const started = Date.now();
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.equal(error.message, `The DNS hook ${hook} did not finish present for _acme-challenge.www.test.example within 1 s and was stopped.`);
    assert.ok(Date.now() - started < 10_000);
  });

  test("a script whose child hangs (no exec) is stopped with its child: the order is not held and no process is left", async () => {
    // The shell runs sleep as its child, which keeps the output pipes open after the shell is gone.
    const pidFile = join(dir, 'child.pid');
    const hook = await script('hang-child.sh', `#!/bin/sh\nsleep 30 &\necho $! > "${pidFile}"\nwait\n`);
    const provider = createDnsProvider(settings(hook, 1000), { credentials: null });
    const started = Date.now();
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.match(error.message, /within 1 s and was stopped/);
    assert.ok(Date.now() - started < 10_000, `settled after ${Date.now() - started} ms`);
    const child = Number((await readFile(pidFile, 'utf8')).trim());
    const alive = () => {
      try {
        process.kill(child, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 5000;
    while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(alive(), false, `the script's child ${child} still runs`);
  });

  test('a flood of output is kept bounded', async () => {
    const hook = await script('flood.sh', '#!/bin/sh\nhead -c 3000000 /dev/zero | tr "\\\\0" x >&2\necho >&2\necho "last words" >&2\nexit 1\n');
    const provider = createDnsProvider(settings(hook), { credentials: null });
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.match(error.message, /: last words\.$/);
    assert.ok((error.details ?? '').length < 40_000, `details were ${(error.details ?? '').length} characters`);
  });

  test('a missing script is named', async () => {
    const provider = createDnsProvider(settings(join(dir, 'nope.sh')), { credentials: null });
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.equal(error.message, `The DNS hook ${join(dir, 'nope.sh')} could not be started: there is no file at that path.`);
  });
});
