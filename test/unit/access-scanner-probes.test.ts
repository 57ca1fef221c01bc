// The scanner probe list: the probes bots send are caught however they are spelled (encoded, with
// doubled or backward slashes, in capitals, behind dot segments), a path that climbs above the root
// is caught as traversal, and — the guard against false blocks — the paths real apps and their
// users request every day never match, nor do secrets-looking names deeper in a path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizedPath } from '../../src-main/core/access/request-path.js';
import { probeIn, SCANNER_PROBES, TRAVERSAL_PROBE } from '../../src-main/core/access/scanner-probes.js';

test('the probes bots send match, however they are spelled', () => {
  const cases: [string, string][] = [
    ['/.env', '/.env'],
    ['/.env.production', '/.env'],
    ['/.env.bak?x=1', '/.env'],
    ['/.env-prod', '/.env'],
    ['/.env~', '/.env'],
    ['/.env/', '/.env'],
    ['/.ENV', '/.env'],
    ['//.env', '/.env'],
    ['/%2eenv', '/.env'],
    ['/%2E%65nv', '/.env'],
    ['\\.env', '/.env'],
    ['/static/../.env', '/.env'],
    ['/./.env', '/.env'],
    ['/.git/config', '/.git/'],
    ['/.git/HEAD', '/.git/'],
    ['/.git', '/.git/'],
    ['/.svn/wc.db', '/.svn/'],
    ['/.aws/credentials', '/.aws/'],
    ['/.DS_Store', '/.DS_Store'],
    ['/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php', '/vendor/phpunit/'],
    ['/wp-login.php', '/wp-login.php'],
    ['/%77p-login.php', '/wp-login.php'],
    ['/wp-login.php#x', '/wp-login.php'],
    ['/WP-LOGIN.PHP', '/wp-login.php'],
    ['/xmlrpc.php', '/xmlrpc.php'],
    ['/wp-admin/install.php', '/wp-admin/'],
    ['/wp-includes/wlwmanifest.xml', '/wp-includes/'],
    ['/phpMyAdmin/index.php', '/phpmyadmin/'],
    ['/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh', TRAVERSAL_PROBE.name],
    ['/cgi-bin/../../../../etc/passwd', TRAVERSAL_PROBE.name],
    ['/icons/.%2e/%2e%2e/%2e%2e/etc/passwd', TRAVERSAL_PROBE.name],
    ['/..%2f..%2fetc/passwd', TRAVERSAL_PROBE.name],
    ['/files/%2e%2e/%2E%2E/%2e%2e/etc/passwd', TRAVERSAL_PROBE.name],
    ['/a/.%2e/.%2e/x', TRAVERSAL_PROBE.name],
    ['/a/b/../../../x', TRAVERSAL_PROBE.name],
  ];
  for (const [path, name] of cases) assert.equal(probeIn(path, true)?.name, name, path);
});

test('WordPress and phpMyAdmin probes only where the app is known to be something else', () => {
  // A route with no app set may be a WordPress site whose owner signs in at /wp-login.php.
  for (const path of ['/wp-login.php', '/xmlrpc.php', '/wp-admin/', '/phpmyadmin/']) assert.equal(probeIn(path, false), null, path);
  // Secrets and traversal are probes everywhere.
  for (const path of ['/.env', '/.git/config', '/cgi-bin/../../x']) assert.notEqual(probeIn(path, false), null, path);
});

test('paths real apps request never match (the false-positive guard)', () => {
  const everyday = [
    // Jellyfin
    '/web/index.html', '/web/main.jellyfin.bundle.js?abc', '/Users/AuthenticateByName', '/Items/0a1b/Images/Primary?fillHeight=396',
    '/Videos/0a1b/stream.mp4?Static=true', '/socket?api_key=x', '/System/Info/Public', '/Sessions/Playing/Progress',
    // Nextcloud, with files a user really has (hidden files deep in a folder included)
    '/index.php/apps/files/', '/remote.php/dav/files/alice/Projects/app/.env', '/remote.php/dav/files/alice/code/.git/config',
    '/remote.php/dav/files/alice/Photos/.DS_Store', '/remote.php/webdav/My%20Documents/Report%20(final).pdf',
    '/ocs/v2.php/apps/notifications/api/v2/notifications?format=json', '/status.php', '/.well-known/caldav', '/.well-known/carddav',
    '/apps/wordpress-notes/wp-login.php', '/index.php/login', '/remote.php/dav/files/alice/vendor/phpunit/README.md',
    // Home Assistant
    '/api/websocket', '/auth/login_flow', '/auth/token', '/local/community/card.js', '/hacsfiles/iconset.js', '/manifest.json',
    '/api/states/light.kitchen', '/frontend_latest/app.js',
    // Immich
    '/api/assets', '/api/auth/login', '/api/server/ping', '/api/assets/3fa8/thumbnail?size=preview', '/api/socket.io/?EIO=4',
    // Gitea and Forgejo, browsing a repository that holds dotfiles
    '/alice/app/src/branch/main/.env.example', '/alice/app/raw/branch/main/.gitignore', '/alice/app.git/info/refs?service=git-upload-pack',
    '/alice/app/src/branch/main/vendor/phpunit', '/user/login',
    // Vaultwarden, Paperless, Proxmox, Grafana, Pi-hole
    '/identity/connect/token', '/api/sync?excludeDomains=true', '/api/documents/?page=1', '/api2/json/nodes', '/pve2/css/ext6-pve.css',
    '/public/build/app.js', '/admin/index.php', '/api/auth', '/d/abc123/home?orgId=1', '/vendor/htmx.min.js', '/wp/', '/wordpress/',
    // Odd but legitimate
    '/', '/a..b', '/files/report..final.pdf', '/search?q=../..', '/100%25.txt', '/p%C3%A4ge', '/.well-known/acme-challenge/x',
    '/.envoy', '/env', '/git/', '/pma', '/vendor/', '/phpmyadmin-docs', '/xmlrpc', '/.gitlab-ci.yml',
  ];
  for (const path of everyday) assert.equal(probeIn(path, true), null, `${path} matched ${probeIn(path, true)?.name}`);
});

test('every probe says why it is on the list', () => {
  for (const probe of [...SCANNER_PROBES, TRAVERSAL_PROBE]) assert.ok(probe.why.length > 40, probe.name);
  assert.ok(SCANNER_PROBES.length <= 15, 'the list stays short');
});

test('normalization: decoded once, slashes folded, dot segments resolved, climbing above the root refused', () => {
  assert.equal(normalizedPath('/a/b?c=d'), '/a/b');
  const plain = '/web/index.html';
  assert.equal(normalizedPath(plain), plain);
  assert.equal(normalizedPath('//a///b/'), '/a/b/');
  assert.equal(normalizedPath('/a/./b/../c'), '/a/c');
  assert.equal(normalizedPath('/a%2Fb'), '/a/b');
  assert.equal(normalizedPath('/100%2525'), '/100%25', 'decoded once, not twice');
  assert.equal(normalizedPath('\\a\\b'), '/a/b');
  assert.equal(normalizedPath('/%zz'), '/%zz', 'a bad escape stays as it was');
  assert.equal(normalizedPath('/..'), null);
  assert.equal(normalizedPath('/a/../../b'), null);
});
