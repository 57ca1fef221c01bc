// The sign-in paths of app presets: each preset that has one is a real preset, only the request
// that checks a password counts (POST, not the page that shows the form), spellings the app
// accepts count too (case for ASP.NET apps, a base path, encoded or doubled slashes), and a path
// that only starts like a sign-in path does not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APP_LOGINS, loginMatcherFor } from '../../src-main/core/access/login-paths.js';
import { presetById } from '../../src-main/core/discovery/presets.js';

test('every app with sign-in paths is a preset, and each says where its paths come from', () => {
  for (const [app, login] of Object.entries(APP_LOGINS)) {
    assert.ok(presetById(app), `${app} is a preset`);
    assert.match(login.source, /^https:\/\//, app);
    assert.ok(login.paths.length > 0, app);
  }
  for (const app of ['jellyfin', 'home-assistant', 'nextcloud', 'vaultwarden', 'immich', 'proxmox-ve', 'gitea', 'forgejo', 'grafana', 'portainer']) {
    assert.ok(APP_LOGINS[app], `${app} has sign-in paths`);
  }
});

test('sign-in attempts match; the sign-in page and everything else do not', () => {
  const yes: [string, string, string][] = [
    ['jellyfin', 'POST', '/Users/AuthenticateByName'],
    ['jellyfin', 'POST', '/users/authenticatebyname'],
    ['jellyfin', 'POST', '/jellyfin/Users/AuthenticateByName'],
    ['emby', 'POST', '/emby/Users/AuthenticateByName'],
    ['home-assistant', 'POST', '/auth/login_flow'],
    ['home-assistant', 'POST', '/auth/login_flow/0123abcd'],
    ['nextcloud', 'POST', '/login'],
    ['nextcloud', 'POST', '/index.php/login'],
    ['nextcloud', 'POST', '//index.php/login'],
    ['vaultwarden', 'POST', '/identity/connect/token'],
    ['vaultwarden', 'POST', '/api/accounts/prelogin'],
    ['immich', 'POST', '/api/auth/login'],
    ['immich', 'POST', '/API/Auth/LOGIN'], // Express routes in any case
    ['proxmox-ve', 'POST', '/api2/json/access/ticket'],
    ['proxmox-ve', 'POST', '/api2/extjs/access/ticket'],
    ['gitea', 'POST', '/user/login?redirect_to=%2F'],
    ['forgejo', 'POST', '/user/login'],
    ['grafana', 'POST', '/login'],
    ['portainer', 'POST', '/api/auth'],
    ['paperless-ngx', 'POST', '/api/token/'],
    ['pi-hole', 'POST', '/api/auth'],
  ];
  for (const [app, method, path] of yes) assert.ok(loginMatcherFor(app)?.match(method, path), `${app} ${method} ${path}`);
  const no: [string, string, string][] = [
    ['nextcloud', 'GET', '/login'],
    ['nextcloud', 'POST', '/login/v2/poll'], // polled every few seconds by the desktop client while someone signs in
    ['nextcloud', 'POST', '/loginx'],
    ['grafana', 'GET', '/login'],
    ['grafana', 'POST', '/api/dashboards/db'],
    ['home-assistant', 'POST', '/auth/token'],
    ['home-assistant', 'GET', '/auth/login_flow'],
    ['vaultwarden', 'POST', '/api/sync'],
    ['immich', 'POST', '/api/assets'],
    ['gitea', 'POST', '/User/Login'], // chi compares exactly: this is a 404 at Gitea, not a sign-in
    ['gitea', 'POST', '/user/login_source'],
    ['jellyfin', 'POST', '/Sessions/Playing'],
    ['nextcloud', 'POST', '/../login'],
  ];
  for (const [app, method, path] of no) assert.equal(loginMatcherFor(app)?.match(method, path) ?? null, null, `${app} ${method} ${path}`);
  assert.equal(loginMatcherFor(null), null);
  assert.equal(loginMatcherFor('plex'), null, 'Plex signs in at plex.tv');
});
