// Linux trust stores in temp folders, for running "Trust on this machine" for real without touching
// this machine's own: a Debian-style system store that the real update-ca-certificates builds (its
// --localcertsdir, --certsdir, --etccertsdir, --certsconf and --hooksdir options; its --help lists
// only --verbose and --fresh, but the script takes them all), and a temp HOME for the NSS steps.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { TrustEnvironment } from '../../src-main/core/certs/trust-store.js';
import { openssl } from './openssl.js';

export async function tempDir(t: TestContext, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `gatehouse-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A Debian-style set of system-store folders with one "distribution" CA already trusted. */
export async function debianStore(t: TestContext) {
  const root = await tempDir(t, 'system-store');
  const folders = {
    local: join(root, 'usr-local-share-ca-certificates'),
    share: join(root, 'usr-share-ca-certificates'),
    etc: join(root, 'etc-ssl-certs'),
    hooks: join(root, 'update.d'),
    conf: join(root, 'ca-certificates.conf'),
  };
  for (const dir of [folders.local, folders.share, folders.etc, folders.hooks]) await mkdir(dir);
  // Without any other CA the script would keep the old bundle; a real system always has some. Its
  // own subject: openssl finds CAs in the folder by subject hash.
  const distroPath = join(folders.share, 'distro.crt');
  const made = await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=Distribution Root CA', '-days', '30', '-keyout', join(root, 'distro-key.pem'), '-out', distroPath);
  assert.equal(made.code, 0, made.output);
  await writeFile(folders.conf, 'distro.crt\n');
  const args = ['--localcertsdir', folders.local, '--certsdir', folders.share, '--etccertsdir', folders.etc, '--certsconf', folders.conf, '--hooksdir', folders.hooks];
  return { folders, args, distroPath };
}

/** A Linux trust environment whose every store is a temp folder: the system store and HOME's NSS. */
export async function tempTrustEnvironment(t: TestContext): Promise<{ env: TrustEnvironment; home: string; store: Awaited<ReturnType<typeof debianStore>> }> {
  const home = await tempDir(t, 'home');
  const store = await debianStore(t);
  // Root or not, the temp folders need no administrator: leave pkexec out.
  const env: TrustEnvironment = { platform: 'linux', homeDir: home, isRoot: true, stores: { debianLocalCerts: store.folders.local, debianUpdateArgs: store.args } };
  return { env, home, store };
}
