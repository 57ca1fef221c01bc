// SSH through a real `gatehouse serve`, driven the way a person's script would: the HTTP admin API adds
// an SSH stream to a real sshd while the proxy runs (no restart), `ssh … id -un` logs in through it
// with the host key checked against the server's own (Gatehouse passes the bytes, it is no man in the
// middle), sftp moves a file both ways, the ~/.ssh/config block docs/streams.md shows lets `ssh nas`
// work, the stream's connections show in its counters and the log, and after removeStream the port
// refuses.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StreamView } from '../../shared/streams.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { describeRun, runBounded } from '../helpers/ftp-clients.js';
import { freePort } from '../helpers/ports.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { needSshd, startSshd, type Sshd } from '../helpers/sshd.js';
import { sha256File, writeRandomFile } from '../helpers/vsftpd.js';

describe('an SSH stream through gatehouse serve', { skip: needSshd() }, () => {
  let serve: ServeProcess;
  let sshd: Sshd;
  let work: string;
  let view: StreamView;
  let port: number;

  async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await serve.api(path, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
    const text = await response.text();
    assert.ok(response.ok, `${init.method ?? 'GET'} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  before(async () => {
    [serve, sshd, work] = await Promise.all([
      startServe({ args: ['--bind', '127.0.0.1'] }),
      startSshd(),
      mkdtemp(join(tmpdir(), 'gatehouse-streams-serve-')),
    ]);
  });

  after(async () => {
    await serve?.stop();
    await sshd?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('addStream over the admin API listens at once; ssh logs in through it with the server\'s own host key', async () => {
    port = await freePort();
    view = await api<StreamView>('/api/streams', {
      method: 'POST',
      body: JSON.stringify({ title: 'NAS SSH', preset: 'ssh', protocol: 'tcp', listenPort: port, upstreams: [`${sshd.address}:${sshd.port}`] }),
    });
    assert.equal(view.status.state, 'listening', JSON.stringify(view.status.problem));

    const result = await sshd.ssh('id -un', { host: '127.0.0.1', port });
    assert.equal(result.code, 0, `${describeRun(result)}\n${sshd.log()}`);
    assert.equal(result.stdout.trim(), sshd.user);
  });

  test('sftp puts and gets a file through the same stream', async () => {
    const source = join(work, 'up.bin');
    const back = join(work, 'back.bin');
    const sum = await writeRandomFile(source, 512 * 1024);
    const result = await sshd.sftp([`put ${source} up.bin`, `get up.bin ${back}`, 'rm up.bin'], { host: '127.0.0.1', port });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(await sha256File(back), sum);
  });

  test('the ~/.ssh/config block from docs/streams.md makes `ssh nas` reach the server through Gatehouse', async () => {
    const config = join(work, 'ssh_config');
    await writeFile(
      config,
      [
        'Host nas',
        '  HostName 127.0.0.1',
        `  Port ${port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.identityFile}`,
        '  IdentitiesOnly yes',
        '  BatchMode yes',
        '  StrictHostKeyChecking yes',
        `  UserKnownHostsFile ${sshd.knownHostsFor('127.0.0.1', port)}`,
        '  GlobalKnownHostsFile /dev/null',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const result = await runBounded('ssh', ['-F', config, 'nas', 'id', '-un'], { timeoutMs: 30_000 });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.trim(), sshd.user);
  });

  test('the stream counts its connections and logs them with the stream id', async () => {
    const listed = await api<StreamView[]>('/api/streams');
    const mine = listed.find((entry) => entry.stream.id === view.stream.id);
    assert.ok(mine && mine.status.total >= 3, JSON.stringify(mine?.status));
    assert.ok(mine.status.bytesIn > 0 && mine.status.bytesOut > 0);
    assert.equal(mine.status.upstreams[0]?.address, `${sshd.address}:${sshd.port}`);
    const log = await api<AccessLogEntry[]>('/api/log?limit=100');
    const entries = log.filter((entry) => entry.streamId === view.stream.id);
    assert.ok(entries.length >= 1, JSON.stringify(log.slice(-5)));
    assert.ok(entries.every((entry) => entry.method === 'TCP' && entry.path === `:${port}`));
  });

  test('a second stream on the same port is a 400 whose issue names listenPort and the stream that has it', async () => {
    const response = await serve.api('/api/streams', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Other SSH', protocol: 'tcp', listenPort: port, upstreams: ['127.0.0.1:22'] }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string; message: string; issues?: { path: string; message: string }[] } };
    assert.equal(body.error.code, 'invalid_input');
    assert.equal(body.error.issues?.[0]?.path, 'listenPort');
    assert.match(body.error.message, /stream "NAS SSH"/);
  });

  test('removeStream closes the port: ssh is refused, and the proxy is still running', async () => {
    await api(`/api/streams/${view.stream.id}`, { method: 'DELETE' });
    const result = await sshd.ssh('id -un', { host: '127.0.0.1', port }, 20_000);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Connection refused/, describeRun(result));
    const status = await api<{ state: string }>('/api/proxy');
    assert.equal(status.state, 'running');
    assert.deepEqual(await api<StreamView[]>('/api/streams'), []);
  });
});
