// The backup envelope (scrypt + AES-256-GCM, header as additional data): it opens with the right
// passphrase only, says which of "wrong passphrase" and "damaged" it is, notices any changed byte
// (the header's cost parameters included), and refuses a newer format or a file that is not one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKUP_FORMAT_VERSION, BACKUP_MAGIC, BackupOpenError, DEFAULT_SCRYPT, openBackup, sealBackup } from '../../src-main/core/insight/backup-envelope.js';

const PASS = 'correct horse battery staple';
const payload = { hello: 'world', list: [1, 2, 3], key: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----' };
/** Cheaper than the default so the many opens below stay quick; the default is tested once. */
const CHEAP = { log2N: 10, r: 8, p: 1 };

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => assert.fail('expected the backup not to open'), (caught: unknown) => caught);
  assert.ok(error instanceof BackupOpenError, String(error));
  return error.reason;
}

describe('backup envelope', () => {
  test('round trip with the default cost (N = 2^15, r = 8, p = 1) and its header', async () => {
    const file = await sealBackup(payload, PASS);
    assert.ok(file.subarray(0, 16).equals(BACKUP_MAGIC));
    assert.equal(file[16], BACKUP_FORMAT_VERSION);
    assert.deepEqual([file[17], file[18], file[19], file[20]], [1, DEFAULT_SCRYPT.log2N, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p]);
    assert.ok(DEFAULT_SCRYPT.log2N >= 15);
    assert.deepEqual(await openBackup(file, PASS), payload);
    assert.ok(!file.includes(Buffer.from('PRIVATE KEY')), 'nothing readable in the file');
  });

  test('two backups of the same data differ (random salt and nonce)', async () => {
    const [a, b] = await Promise.all([sealBackup(payload, PASS, CHEAP), sealBackup(payload, PASS, CHEAP)]);
    assert.ok(!a.subarray(21, 49).equals(b.subarray(21, 49)));
    assert.ok(!a.equals(b));
  });

  test('a wrong passphrase says so', async () => {
    const file = await sealBackup(payload, PASS, CHEAP);
    assert.equal(await reason(openBackup(file, 'correct horse battery stapler')), 'wrong-passphrase');
    const message = await openBackup(file, 'nope nope nope').catch((error: Error) => error.message);
    assert.match(String(message), /passphrase does not open this backup/);
  });

  test('every changed byte is noticed: body and tag as damage, the header as not opening', async () => {
    const file = await sealBackup(payload, PASS, CHEAP);
    // The ciphertext and the tag: the passphrase is right, the seal is broken.
    for (const at of [file.length - 1, file.length - 17, 65, Math.floor((65 + file.length) / 2)]) {
      const bad = Buffer.from(file);
      bad[at]! ^= 0x01;
      assert.equal(await reason(openBackup(bad, PASS)), 'damaged', `byte ${at}`);
    }
    // Salt, nonce, key check: authenticated, so the file does not open either way.
    for (const at of [21, 36, 37, 48, 49, 64]) {
      const bad = Buffer.from(file);
      bad[at]! ^= 0x80;
      assert.ok(['damaged', 'wrong-passphrase'].includes(await reason(openBackup(bad, PASS))), `byte ${at}`);
    }
    // A lowered cost is still authenticated (N is part of the key derivation and the additional data).
    const cheaper = Buffer.from(file);
    cheaper[18] = 11;
    assert.ok(['damaged', 'wrong-passphrase'].includes(await reason(openBackup(cheaper, PASS))));
  });

  test('cut short, not a backup, a hostile cost, a newer format', async () => {
    const file = await sealBackup(payload, PASS, CHEAP);
    assert.equal(await reason(openBackup(file.subarray(0, file.length - 5), PASS)), 'damaged');
    assert.equal(await reason(openBackup(file.subarray(0, 40), PASS)), 'not-a-backup');
    assert.equal(await reason(openBackup(Buffer.from('{"format":"gatehouse-settings"}'), PASS)), 'not-a-backup');
    const hostile = Buffer.from(file);
    hostile[18] = 40; // 2^40: refused before any memory is asked for
    assert.equal(await reason(openBackup(hostile, PASS)), 'damaged');
    const newer = Buffer.from(file);
    newer[16] = BACKUP_FORMAT_VERSION + 1;
    const error = await openBackup(newer, PASS).catch((caught: BackupOpenError) => caught);
    assert.ok(error instanceof BackupOpenError);
    assert.equal(error.reason, 'newer-format');
    assert.match(error.message, /newer Gatehouse/);
  });
});
