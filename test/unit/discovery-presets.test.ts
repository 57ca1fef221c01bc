// The presets table: every preset is complete, has a fingerprint and a public source, and
// docs/presets.md says what the table says. To rewrite the doc after changing the table:
//   GATEHOUSE_WRITE_PRESETS_DOC=1 npx tsx --test test/unit/discovery-presets.test.ts
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AppPreset } from '../../shared/status.js';
import { fingerprints } from '../../src-main/core/discovery/fingerprints.js';
import { presets } from '../../src-main/core/discovery/presets.js';
import { COMMON_PORTS } from '../../src-main/core/discovery/probe-host.js';

const docPath = fileURLToPath(new URL('../../docs/presets.md', import.meta.url));

function options(preset: AppPreset): string {
  const parts = [preset.scheme === 'https' ? 'HTTPS upstream' : 'HTTP upstream'];
  if (preset.insecureUpstreamTls) parts.push('self-signed upstream TLS');
  if (preset.websocket) parts.push('WebSocket');
  if (preset.largeUploads) parts.push('large uploads');
  const check = preset.healthCheck;
  if (check) parts.push(`health check GET ${check.path} (${check.statusFrom}–${check.statusTo}${check.bodyContains === null ? '' : `, body contains ${check.bodyContains}`})`);
  return parts.join(', ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** docs/presets.md, generated from the presets and fingerprints tables. */
function presetsDoc(): string {
  const rows = presets.map((preset) => {
    const fingerprint = fingerprints.find((fp) => fp.presetId === preset.id);
    return `| ${preset.app} | \`${preset.suggestedName}\` | ${preset.defaultPorts.join(', ')} | ${cell(fingerprint?.recognisedBy ?? '')} | ${options(preset)} | ${cell(preset.notes ?? '')} | <${preset.source}> |`;
  });
  return [
    '# Apps Gatehouse recognises',
    '',
    '<!-- Generated from src-main/core/discovery/presets.ts and fingerprints.ts by test/unit/discovery-presets.test.ts; edit those, then regenerate. -->',
    '',
    'When a service is discovered over mDNS or found by "Probe a host", Gatehouse asks its landing page (title, Server header, at most two',
    'redirects on the same host) and, only when that page names an app or the port is one of its defaults, a few of the well-known',
    'endpoints below: at most six requests and 2.5 seconds per service, with TLS certificates not verified (appliances self-sign) and',
    'nothing secret sent. "Map it" then fills in the route with the options the app needs, and a new route for an app with a',
    "documented health endpoint checks that endpoint (see health-checks.md); the others keep the default check, GET / with any 200–499 answer.",
    '',
    'Each fingerprint was read from the public source named in the last column.',
    '',
    '| App | Suggested name | Usual ports | Recognised by | Route options | Notes | Source |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '## Ports "Probe a host" tries',
    '',
    `${COMMON_PORTS.join(', ')}: each is explained in src-main/core/discovery/probe-host.ts. Each port gets one TCP connection attempt`,
    '(600 ms at most, 16 at a time), then the open ones are identified (4 at a time), all within about 3 seconds.',
    '',
  ].join('\n');
}

test('every preset is complete and recognisable, from a public source', () => {
  const ids = presets.map((preset) => preset.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const preset of presets) {
    assert.match(preset.id, /^[a-z0-9-]+$/);
    assert.match(preset.suggestedName, /^[a-z0-9-]+$/, `${preset.app}: a name label`);
    assert.ok(preset.defaultPorts.length > 0 && preset.defaultPorts.every((port) => Number.isInteger(port) && port > 0 && port < 65536), `${preset.app}: ports`);
    assert.equal(new URL(preset.source).protocol, 'https:', `${preset.app}: source is a public https URL`);
    if (preset.insecureUpstreamTls) assert.equal(preset.scheme, 'https', `${preset.app}: self-signed TLS means an HTTPS upstream`);
    const fingerprint = fingerprints.find((fp) => fp.presetId === preset.id);
    assert.ok(fingerprint && (fingerprint.landing || fingerprint.endpoints?.length), `${preset.app}: has a fingerprint`);
    assert.ok(fingerprint.recognisedBy.length > 10, `${preset.app}: the fingerprint is described`);
  }
  assert.deepEqual(
    fingerprints.map((fp) => fp.presetId).filter((id) => !ids.includes(id)),
    [],
    'no fingerprint without a preset',
  );
  for (const app of ['Jellyfin', 'Plex Media Server', 'Emby', 'Mattermost', 'Home Assistant', 'Nextcloud', 'Grafana', 'Portainer', 'Proxmox VE', 'Synology DSM', 'TrueNAS', 'Pi-hole', 'AdGuard Home', 'Vaultwarden', 'Gitea', 'Forgejo', 'Immich', 'Paperless-ngx', 'Uptime Kuma', 'UniFi Network']) {
    assert.ok(presets.some((preset) => preset.app === app), `the issue names ${app}`);
  }
});

test('docs/presets.md says what the table says', () => {
  const expected = presetsDoc();
  if (process.env.GATEHOUSE_WRITE_PRESETS_DOC === '1') writeFileSync(docPath, expected);
  let actual = '';
  try {
    actual = readFileSync(docPath, 'utf8');
  } catch {
    // missing: reported below
  }
  assert.equal(actual, expected, 'docs/presets.md is out of date: GATEHOUSE_WRITE_PRESETS_DOC=1 npx tsx --test test/unit/discovery-presets.test.ts');
});
