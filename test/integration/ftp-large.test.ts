// 100 MB of random bytes both ways through the FTP stream, plain and over FTPS (PROT P), with
// sha256 compared at each end: data connections are spliced with backpressure, and an upload's end
// (half-close) reaches vsftpd only after its last byte.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFtpGate, type FtpGate } from '../helpers/ftp-harness.js';
import { curlFtp, describeRun, lftpRun } from '../helpers/ftp-clients.js';
import { needTools } from '../helpers/tools.js';
import { needVsftpd, sha256File, startVsftpd, writeRandomFile, type Vsftpd } from '../helpers/vsftpd.js';

const SIZE = 100 * 1024 * 1024;

describe('FTP stream, 100 MB both ways', { skip: needVsftpd() || needTools('curl', 'lftp') }, () => {
  let vsftpd: Vsftpd;
  let gate: FtpGate;
  let work: string;
  let source: string;
  let sum: string;
  before(async () => {
    vsftpd = await startVsftpd({ address: '127.0.0.2', passivePorts: 6 });
    gate = await startFtpGate({ upstream: `${vsftpd.address}:${vsftpd.port}`, passivePorts: 4 });
    work = await mkdtemp(join(tmpdir(), 'gatehouse-ftp-large-'));
    source = join(work, 'big.bin');
    sum = await writeRandomFile(source, SIZE);
  });
  after(async () => {
    await gate?.close();
    await vsftpd?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('plain passive: curl uploads, lftp downloads; sha256 equal', async () => {
    const up = await curlFtp(`${gate.url}/pub/big.bin`, { upload: source, timeoutMs: 60_000 });
    assert.equal(up.code, 0, describeRun(up));
    assert.equal(await sha256File(join(vsftpd.anonRoot, 'pub', 'big.bin')), sum);
    const back = join(work, 'big-back.bin');
    const down = await lftpRun(gate.url, [`get pub/big.bin -o ${back}`], { passive: true, ssl: 'off', timeoutSeconds: 60 });
    assert.equal(down.code, 0, describeRun(down));
    assert.equal(await sha256File(back), sum);
  });

  test('FTPS passive (PROT P): lftp uploads and downloads; sha256 equal', async () => {
    const up = await lftpRun(gate.url, [`put ${source} -o pub/big-tls.bin`], { passive: true, ssl: 'force', cafile: gate.caPath, timeoutSeconds: 60 });
    assert.equal(up.code, 0, describeRun(up));
    assert.equal(await sha256File(join(vsftpd.anonRoot, 'pub', 'big-tls.bin')), sum);
    const back = join(work, 'big-tls-back.bin');
    const down = await lftpRun(gate.url, [`get pub/big-tls.bin -o ${back}`], { passive: true, ssl: 'force', cafile: gate.caPath, timeoutSeconds: 60 });
    assert.equal(down.code, 0, describeRun(down));
    assert.equal(await sha256File(back), sum);
  });

  test('the data bytes are counted', async () => {
    await gate.until(() => gate.counters.open === 0, 10_000, 'every session to end');
    assert.ok(gate.counters.bytesIn >= 2 * SIZE, `bytesIn ${gate.counters.bytesIn}`);
    assert.ok(gate.counters.bytesOut >= 2 * SIZE, `bytesOut ${gate.counters.bytesOut}`);
  });
});
