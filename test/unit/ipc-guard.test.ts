// What the Electron IPC wrapper decides, without Electron: which senders are our page, how inputs are
// validated, and what envelope goes back for each outcome. Also the preload's member list and the
// allow-list for links that leave the app.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ApiError, endpoints, type ApiHandlers } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import { isAllowedExternalUrl } from '../../src-main/electron/external-links.js';
import { checkSender, errorEnvelope, forbiddenEnvelope, invokeMember, invokers } from '../../src-main/electron/ipc-guard.js';
import { createElectronTransport } from '../../src-renderer/transport/electron.js';
import { singleUpstream } from '../../shared/upstreams.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const page = 'file:///opt/Gatehouse/resources/app.asar/dist/renderer/index.html';

describe('checkSender', () => {
  it('accepts our page, with or without a query or fragment', () => {
    assert.equal(checkSender(page, page), true);
    assert.equal(checkSender(`${page}#/routes`, page), true);
    assert.equal(checkSender(`${page}?view=1`, page), true);
  });

  it('treats percent-encoded and plain spellings of the same path alike', () => {
    const spaced = 'file:///home/me/My%20Apps/Gatehouse/dist/renderer/index.html';
    assert.equal(checkSender('file:///home/me/My Apps/Gatehouse/dist/renderer/index.html', spaced), true);
    assert.equal(checkSender('file:///opt/Gatehouse/resources/app.asar/dist/renderer/../renderer/index.html', page), true);
  });

  it('refuses every other page', () => {
    for (const url of [
      'file:///opt/Gatehouse/resources/app.asar/dist/renderer/other.html',
      'file:///tmp/index.html',
      'file:///opt/Gatehouse/resources/app.asar/dist/renderer/index.html.evil',
      'file://evil.example/opt/Gatehouse/resources/app.asar/dist/renderer/index.html',
      'http://127.0.0.1:4780/',
      'https://evil.example/opt/Gatehouse/resources/app.asar/dist/renderer/index.html',
      'about:blank',
      'devtools://devtools/bundled/inspector.html',
      'not a url',
      '',
    ]) {
      assert.equal(checkSender(url, page), false, url);
    }
    assert.equal(checkSender(undefined, page), false);
    assert.equal(checkSender(null, page), false);
  });

  it('compares paths case-insensitively on Windows only', () => {
    const windowsPage = 'file:///C:/Program%20Files/Gatehouse/resources/app.asar/dist/renderer/index.html';
    const otherCase = 'file:///c:/program files/gatehouse/resources/app.asar/dist/renderer/index.html';
    assert.equal(checkSender(otherCase, windowsPage, 'win32'), true);
    assert.equal(checkSender(otherCase, windowsPage, 'linux'), false);
  });
});

/** Handlers that record what they were given; each member answers with its own name unless set. */
function fakeHandlers(overrides: Partial<ApiHandlers> = {}) {
  const received: { member: string; input: unknown }[] = [];
  const handlers = {} as Record<string, (input: unknown) => Promise<unknown>>;
  for (const member of Object.keys(endpoints)) {
    handlers[member] = async (input) => {
      received.push({ member, input });
      return member;
    };
  }
  Object.assign(handlers, overrides);
  return { handlers: handlers as unknown as ApiHandlers, received };
}

describe('invokeMember', () => {
  it('has an invoker for every member of the contract, and no other', () => {
    assert.deepEqual(Object.keys(invokers).sort(), Object.keys(endpoints).sort());
  });

  it('calls each member’s own handler with the validated input', async () => {
    const { handlers, received } = fakeHandlers();
    // Members whose input has required fields; the rest take none.
    const inputs: Partial<Record<keyof typeof invokers, unknown>> = {
      getRoute: { id: 'r1' },
      removeRoute: { id: 'r1' },
      setUpstreamDrained: { id: 'r1', url: '10.33.0.4:8096', drained: true },
      checkPorts: { httpPort: 8080 },
      previewImport: { document: { format: 'gatehouse-settings' } },
      importSettings: { document: { format: 'gatehouse-settings' } },
      setCaDomains: { domains: ['home.arpa'], replaceCa: true },
      downloadCa: { format: 'der' },
      importCertificate: { certificatePem: 'x', privateKeyPem: 'y' },
      removeCertificate: { id: 'c1' },
      renewCertificate: { routeId: 'r1' },
      trustCa: { consent: true, caFingerprintSha256: 'AA:'.repeat(31) + 'AA' },
      untrustCa: { consent: true, caFingerprintSha256: 'AA:'.repeat(31) + 'AA' },
      getAcmeDirectory: { directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' },
      addAcmeAccount: { label: 'LE', directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' },
      updateAcmeAccount: { id: 'r1', email: 'me@example.com' },
      rolloverAcmeKey: { id: 'r1' },
      removeAcmeAccount: { id: 'r1' },
      addDnsProvider: { kind: 'duckdns', label: 'Duck', credentials: 'token' },
      updateDnsProvider: { id: 'r1', kind: 'duckdns', label: 'Duck' },
      removeDnsProvider: { id: 'r1' },
      testDnsProvider: { id: 'r1', name: 'www.example.com' },
      preflightCertificate: { names: ['www.example.com'], acme: { accountId: 'r1' } },
      getStream: { id: 'r1' },
      addStream: { title: 'NAS SSH', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] },
      updateStream: { id: 'r1', title: 'NAS SSH', protocol: 'tcp', listenPort: 2222, upstreams: ['10.33.0.5:22'] },
      removeStream: { id: 'r1' },
      probeHost: { address: '10.33.0.4' },
      addAccessList: { name: 'Family' },
      updateAccessList: { id: 'l1', name: 'Family' },
      removeAccessList: { id: 'l1' },
      checkAccess: { routeId: 'r1', address: '203.0.113.5' },
      addAccessUser: { name: 'ann', password: 'a long password' },
      setAccessUserPassword: { name: 'ann', password: 'a long password' },
      removeAccessUser: { name: 'ann' },
      addSignInProvider: { name: 'Authelia', kind: 'authelia', url: 'http://10.0.0.5:9091/api/authz/forward-auth' },
      updateSignInProvider: { id: 'p1', name: 'Authelia', kind: 'authelia', url: 'http://10.0.0.5:9091/api/authz/forward-auth' },
      removeSignInProvider: { id: 'p1' },
      liftBan: { address: '203.0.113.5' },
      searchLog: { status: '5xx', limit: 50 },
      getHistory: { routeId: 'r1', range: '24h' },
      getHistorySummary: { range: '1h' },
      runDoctor: { routeId: 'r1' },
      getInspector: { routeId: 'r1' },
      setInspector: { routeId: 'r1', enabled: true, keep: 20 },
      clearInspector: { routeId: 'r1' },
      replayRequest: { routeId: 'r1', captureId: 'c1' },
      getBackups: {},
      updateBackupSchedule: { enabled: true, folder: '/srv/backups' },
      createBackup: { passphrase: 'a long passphrase' },
      previewRestore: { fileName: 'gatehouse.backup', passphrase: 'a long passphrase' },
      restoreBackup: { fileName: 'gatehouse.backup', passphrase: 'a long passphrase', confirm: true },
      previewNpmImport: { folder: '/srv/npm/data' },
      applyNpmImport: { folder: '/srv/npm/data', keys: ['proxy-host:1'] },
    };
    for (const member of Object.keys(invokers) as (keyof typeof invokers)[]) {
      const input = inputs[member];
      if (member === 'addRoute' || member === 'updateRoute' || member === 'updateSettings') continue; // below
      assert.deepEqual(await invokeMember(member, input, handlers), { ok: true, value: member });
      assert.equal(received.at(-1)?.member, member);
    }
  });

  it('applies the schema’s normalization and defaults before the handler sees the input', async () => {
    const { handlers, received } = fakeHandlers();
    await invokeMember('addRoute', { names: ['Jellyfin.Home.Arpa.'], upstream: '10.33.0.4:8096' }, handlers);
    const { id: _id, ...withDefaults } = sampleRoute({ id: 'unsaved', names: ['jellyfin.home.arpa'], upstream: 'http://10.33.0.4:8096' });
    assert.deepEqual(received.at(-1)?.input, withDefaults);
    await invokeMember('recentLog', {}, handlers);
    assert.deepEqual(received.at(-1)?.input, { limit: 200 });
    await invokeMember('getStatus', undefined, handlers);
    assert.deepEqual(received.at(-1)?.input, {});
  });

  it('answers invalid input with invalid_input naming the field, without calling the handler', async () => {
    const { handlers, received } = fakeHandlers();
    const envelope = await invokeMember('addRoute', { names: ['jellyfin.home.arpa'], upstream: 'ftp://nas:21' }, handlers);
    assert.equal(envelope.ok, false);
    assert.ok(!envelope.ok);
    assert.equal(envelope.error.code, 'invalid_input');
    assert.equal(envelope.error.issues?.[0]?.path, 'upstreams.0.url');
    assert.equal(received.length, 0);

    for (const [member, input] of [
      ['getRoute', {}],
      ['getRoute', { id: 'r1', extra: true }],
      ['getStatus', { unexpected: 1 }],
      ['recentLog', { limit: 0 }],
      ['updateSettings', { proxy: { httpPort: 70000 } }],
      ['removeRoute', 'r1'],
      ['listRoutes', [1, 2]],
    ] as const) {
      const answer = await invokeMember(member, input, handlers);
      assert.equal(answer.ok ? 'ok' : answer.error.code, 'invalid_input', `${member} ${JSON.stringify(input)}`);
    }
    assert.equal(received.length, 0);
  });

  it('passes an ApiError from the handler through with its code, message and fix', async () => {
    const { handlers } = fakeHandlers({
      startProxy: async () => {
        throw new ApiError('port_unavailable', 'Port 80 is in use by another program.', { fix: 'Stop it, or choose another port.' });
      },
    });
    assert.deepEqual(await invokeMember('startProxy', {}, handlers), {
      ok: false,
      error: { code: 'port_unavailable', message: 'Port 80 is in use by another program.', fix: 'Stop it, or choose another port.' },
    });
  });

  it('hides the details of an unexpected error from the page, and reports it for the log', async () => {
    const unexpected: unknown[] = [];
    const { handlers } = fakeHandlers({
      getStats: async () => {
        throw new Error('EACCES: /home/me/.config/Gatehouse/secret');
      },
    });
    const envelope = await invokeMember('getStats', {}, handlers, (_member, error) => unexpected.push(error));
    assert.ok(!envelope.ok);
    assert.equal(envelope.error.code, 'internal');
    assert.doesNotMatch(envelope.error.message, /EACCES|secret/);
    assert.equal(unexpected.length, 1);
  });

  it('builds the envelope a refused sender gets', () => {
    const envelope = forbiddenEnvelope();
    assert.ok(!envelope.ok);
    assert.equal(envelope.error.code, 'forbidden');
    assert.deepEqual(errorEnvelope(new ApiError('not_found', 'No such route.')), { ok: false, error: { code: 'not_found', message: 'No such route.' } });
  });
});

describe('the Electron transport reads envelopes', () => {
  const route = { id: 'r1' } as unknown as Route;

  it('resolves with the value and rejects with the ApiError the envelope carries', async () => {
    const { handlers } = fakeHandlers({
      getRoute: async () => route,
      stopProxy: async () => {
        throw new ApiError('conflict', 'Already stopping.');
      },
    });
    // The bridge as the preload builds it, with main's wrapper on the other side.
    const transport = createElectronTransport({
      call: (member, input) => invokeMember(member, input, handlers),
      subscribe: () => () => {},
    });
    assert.equal(await transport.call('getRoute', { id: 'r1' }), route);
    await assert.rejects(transport.call('stopProxy', {}), (error) => error instanceof ApiError && error.code === 'conflict');
    await assert.rejects(transport.call('getRoute', {}), (error) => error instanceof ApiError && error.code === 'invalid_input');
  });
});

describe('the preload', () => {
  it('allows exactly the members of the contract', () => {
    // The preload cannot be imported outside Electron; its table is checked against the contract here
    // as well as by the compiler.
    const source = readFileSync(new URL('../../src-main/electron/preload.ts', import.meta.url), 'utf8');
    const table = /const members: Record<ApiMember, true> = \{([^}]*)\}/.exec(source)?.[1] ?? '';
    const listed = [...table.matchAll(/(\w+): true/g)].map((match) => match[1]).sort();
    assert.deepEqual(listed, Object.keys(endpoints).sort());
    assert.doesNotMatch(source, /exposeInMainWorld\([^)]*ipcRenderer\)/, 'ipcRenderer itself is never exposed');
  });
});

describe('isAllowedExternalUrl', () => {
  it('allows https links to the listed hosts only', () => {
    assert.equal(isAllowedExternalUrl('https://letsencrypt.org/docs/'), true);
    assert.equal(isAllowedExternalUrl('https://github.com/'), true);
    for (const url of [
      'http://letsencrypt.org/docs/',
      'https://letsencrypt.org.evil.example/',
      'https://evil.example/?https://github.com',
      'https://user:pass@github.com/',
      'https://github.com:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://nas/share',
      'not a url',
    ]) {
      assert.equal(isAllowedExternalUrl(url), false, url);
    }
    assert.equal(isAllowedExternalUrl('https://docs.example/', { docHosts: ['docs.example'] }), true);
  });

  it('allows http(s) links to the names and upstreams of the user’s own routes', () => {
    const routes = [
      { names: ['jellyfin.home.arpa', '*.media.home.arpa'], upstreams: singleUpstream('http://10.33.0.4:8096') },
      { names: ['pve.home.arpa'], upstreams: singleUpstream('https://10.33.0.9:8006') },
    ];
    for (const url of [
      'http://jellyfin.home.arpa/',
      'https://jellyfin.home.arpa:8443/web/',
      'http://tv.media.home.arpa/',
      'http://10.33.0.4:8096/web/index.html',
      'https://10.33.0.9:8006/',
    ]) {
      assert.equal(isAllowedExternalUrl(url, { routes }), true, url);
    }
    for (const url of [
      'http://a.b.media.home.arpa/', // a wildcard covers one label, as in the router
      'http://media.home.arpa/',
      'http://jellyfin.home.arpa.evil.example/',
      'https://10.33.0.4:8096/', // not the upstream's scheme
      'http://10.33.0.4:22/',
      'http://user:pw@jellyfin.home.arpa/',
      'file://jellyfin.home.arpa/etc/passwd',
      'ftp://jellyfin.home.arpa/',
    ]) {
      assert.equal(isAllowedExternalUrl(url, { routes }), false, url);
    }
  });
});
