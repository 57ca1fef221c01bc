// Settings 7 → 8: the ACME section appears empty, and every route's TLS gains `acme: null`, so a
// file from before public certificates loads unchanged in meaning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTINGS_VERSION } from '../../shared/model.js';
import { decodeSettings } from '../../src-main/core/settings/decode.js';

test('a version 7 file gains an empty ACME section and routes keep their HTTPS mode with no ACME options', () => {
  const raw = {
    version: 7,
    routes: [
      { id: 'r1', names: ['jellyfin.home.arpa'], upstreams: [{ url: 'http://10.33.0.4:8096' }], tls: { mode: 'local', certificateId: null, redirectHttp: true, hsts: false, proxyProtocol: 'off' as const } },
      { id: 'r2', names: ['plain.home.arpa'], upstreams: [{ url: 'http://10.33.0.5:80' }] },
    ],
  };
  const decoded = decodeSettings(JSON.stringify(raw));
  assert.equal(decoded.kind, 'usable', JSON.stringify(decoded));
  if (decoded.kind !== 'usable') throw new Error('unreachable');
  assert.equal(decoded.migratedFrom, 7);
  assert.equal(decoded.settings.version, SETTINGS_VERSION);
  assert.deepEqual(decoded.settings.acme, { accounts: [], dnsProviders: [] });
  assert.deepEqual(decoded.settings.routes[0]!.tls, { mode: 'local', certificateId: null, acme: null, redirectHttp: true, hsts: false, proxyProtocol: 'off' as const });
  assert.equal(decoded.settings.routes[1]!.tls.mode, 'none');
  assert.equal(decoded.settings.routes[1]!.tls.acme, null);
});

test('a route pointing at an ACME account that does not exist is refused with the route named', () => {
  const raw = {
    version: SETTINGS_VERSION,
    routes: [
      {
        id: 'r1',
        title: 'Mattermost',
        names: ['mattermost.example.com'],
        upstreams: [{ url: 'http://10.33.0.6:8065' }],
        tls: { mode: 'acme', acme: { accountId: 'gone' } },
      },
    ],
  };
  const decoded = decodeSettings(JSON.stringify(raw));
  assert.equal(decoded.kind, 'unreadable');
  if (decoded.kind !== 'unreadable') throw new Error('unreachable');
  assert.match(decoded.reason, /route "Mattermost" uses ACME account "gone", which does not exist/);
});
