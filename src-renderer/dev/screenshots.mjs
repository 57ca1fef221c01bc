// Screenshots of every page in light and dark, on a phone (390×844) and a desktop (1280×800),
// against the fake bridge: a quick look at layout and contrast without a running core. Each file is
// NAME-phone|desktop-light|dark.png; the script also reports any page wider than its screen.
// Usage (after `npm run build:renderer`):
//   node src-renderer/dev/screenshots.mjs [OUT_DIR]
//   SHOTS=access node src-renderer/dev/screenshots.mjs   (only the shots whose name matches)
//   SCREEN_ONLY=1 …   (what the screen shows after the shot's steps, not the whole page)
// Serves dist/renderer on 127.0.0.1 (a free port), opens Debian's Chromium through playwright-core.
import { build } from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = process.argv[2] ?? join(root, 'dist', 'screenshots');
mkdirSync(out, { recursive: true });

const bundle = await build({
  entryPoints: [join(root, 'src-renderer/dev/fake-bridge.ts')],
  bundle: true,
  format: 'iife',
  write: false,
  target: 'es2022',
});
const bridgeScript = bundle.outputFiles[0].text;

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const dir = join(root, 'dist/renderer');
const server = createServer((request, response) => {
  const path = normalize(new URL(request.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
  try {
    const body = readFileSync(join(dir, path));
    response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
/** Probes the fake's Jellyfin host, for the Discovery page with a probe result. */
async function probeJellyfinHost(page) {
  await page.getByLabel('Address', { exact: true }).fill('10.33.0.4');
  await page.getByRole('button', { name: 'Probe', exact: true }).click();
  await page.getByRole('table', { name: 'Open ports' }).waitFor();
}

/** Map it on the fake's Home Assistant: the Add route form as the one flow fills it. */
async function mapHomeAssistant(page) {
  await page.getByRole('button', { name: 'Map it: Home Assistant' }).click();
  await page.getByRole('heading', { level: 1, name: 'Add route' }).waitFor();
}

/** Logs with one failed request opened: the reason one tap away. */
async function openFailedRequest(page) {
  await page.locator('tbody.failed button[aria-expanded]').first().click();
  await page.locator('tr.details').first().waitFor();
}

/** Logs with "Search older entries": Proxmox's 5xx from before the restart, one opened, with "Load older". */
async function searchOlderEntries(page) {
  await page.getByRole('button', { name: 'Search older entries', exact: true }).click();
  const panel = page.getByRole('region', { name: 'Search older entries' });
  await panel.getByLabel('Route').selectOption('route-b');
  await panel.getByLabel('Status').fill('5xx');
  await panel.getByRole('button', { name: 'Search', exact: true }).click();
  await panel.getByRole('table', { name: 'Access log' }).waitFor();
  await panel.locator('button[aria-expanded]').nth(1).click();
  await panel.locator('tr.details').first().waitFor();
}

/** The search's second page: "Load older" pressed, down to the end of the matches. */
async function loadOlderEntries(page) {
  await page.getByRole('button', { name: 'Search older entries', exact: true }).click();
  const panel = page.getByRole('region', { name: 'Search older entries' });
  await panel.getByLabel('Status').fill('5xx');
  await panel.getByRole('button', { name: 'Search', exact: true }).click();
  await panel.getByRole('button', { name: 'Load older', exact: true }).click();
  await panel.getByText('That is every match in the log files.').scrollIntoViewIfNeeded();
}

/** The search form refusing a time range that ends before it starts. */
async function searchBackwardsRange(page) {
  await page.getByRole('button', { name: 'Search older entries', exact: true }).click();
  const panel = page.getByRole('region', { name: 'Search older entries' });
  await panel.getByLabel('From').fill('2026-11-21T12:00');
  await panel.getByLabel('Until').fill('2026-11-21T09:00');
  await panel.getByLabel('Status').fill('teapot');
  await panel.getByRole('button', { name: 'Search', exact: true }).click();
  await panel.locator('.field-error').first().waitFor();
}

/** Logs with a refused request opened: the rule that refused it. */
async function openRefusedRequest(page) {
  await page.locator('tbody.refused button[aria-expanded]').first().click();
  await page.locator('tr.details').first().waitFor();
}

/** The phone's navigation unfolded. */
async function openMenu(page) {
  await page.getByRole('button', { name: 'Menu', exact: true }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link').first().waitFor();
}

/** The 1,000-entry list open in its editor: one page of rows, the pager. */
async function editLongList(page) {
  await page.getByRole('button', { name: 'Edit Blocklist' }).click();
  await page.getByRole('form', { name: 'Edit Blocklist' }).waitFor();
  await page.getByRole('button', { name: 'Move entry 48 up' }).scrollIntoViewIfNeeded();
}

/** "Would this address get in?" answered for an address the Family list denies. */
async function checkDeniedAddress(page) {
  await page.getByLabel('Address', { exact: true }).fill('203.0.113.9');
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'is refused' }).waitFor();
  await page.locator('#check-heading').scrollIntoViewIfNeeded();
}

/** Adding a provider from the Authelia preset, with its address typed. */
async function addAutheliaProvider(page) {
  await page.getByRole('button', { name: 'Add provider' }).click();
  await page.getByLabel("Authelia server's address").fill('10.33.0.5');
  await page.getByText('Gatehouse will ask').scrollIntoViewIfNeeded();
}

/** The Access page scrolled to CrowdSec (what SCREEN_ONLY shows). */
async function showCrowdsec(page) {
  await page.evaluate(() => document.getElementById('crowdsec-heading')?.scrollIntoView({ block: 'start' }));
}

/** The route form scrolled to "Who can reach this" (what SCREEN_ONLY shows). */
async function showWhoCanReach(page) {
  await page.getByRole('group', { name: 'Who can reach this' }).scrollIntoViewIfNeeded();
  await page.evaluate(() => document.querySelector('fieldset.who')?.scrollIntoView({ block: 'start' }));
}

/** "Stop the proxy?" with the number of services that go offline. */
async function askToStop(page) {
  await page.getByRole('button', { name: 'Stop proxy', exact: true }).click();
  await page.getByRole('dialog').waitFor();
}

/** Home Assistant's health check unfolded in its edit form. */
async function openHealthCheck(page) {
  await page.locator('summary', { hasText: 'Health check' }).click();
  await page.getByLabel('Path', { exact: true }).waitFor();
}

/** "Drain 10.33.0.22:8123?" with the requests under way. */
async function askToDrain(page) {
  await page.getByRole('button', { name: 'Drain 10.33.0.22:8123' }).click();
  await page.getByRole('dialog').waitFor();
}

/** The route form with "Pass TLS through" chosen: its PROXY protocol choice and what no longer applies. */
async function choosePassthrough(page) {
  await page.getByRole('radio', { name: 'Pass TLS through (the service does its own HTTPS)' }).check();
  await page.getByRole('group', { name: 'HTTPS', exact: true }).scrollIntoViewIfNeeded();
  await page.evaluate(() => document.querySelector('input[value="passthrough"]')?.scrollIntoView({ block: 'start' }));
}

/** Vaultwarden's route form over Let's Encrypt + DNS with "Check setup" run: a CAA failure and a LAN-only warning. */
async function checkAcmeSetup(page) {
  await page.getByRole('button', { name: 'Check setup', exact: true }).click();
  await page.getByRole('list', { name: 'Setup check for this route' }).waitFor();
  await page.getByRole('group', { name: 'HTTPS', exact: true }).scrollIntoViewIfNeeded();
  await page.evaluate(() => document.getElementById('route-acme-account')?.scrollIntoView({ block: 'start' }));
}

/** The Certificates page with Nextcloud's rate-limit problem and its raw answer unfolded. */
async function openRateLimitDetails(page) {
  await page.getByText('Details (what the server said)').first().click();
  await page.evaluate(() => document.getElementById('route-certs-heading')?.scrollIntoView({ block: 'start' }));
}

/** Adding an account at a directory that needs EAB and has terms, with its answer read. */
async function addEabAccount(page) {
  await page.getByRole('button', { name: 'Add account', exact: true }).click();
  await page.getByLabel('Other directory URL', { exact: false }).check();
  await page.getByLabel('Directory URL', { exact: true }).fill('https://acme.zerossl.com/v2/DV90');
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.getByLabel('EAB key id', { exact: true }).fill('kid-1f3a9c');
  await page.getByLabel('EAB HMAC key', { exact: true }).fill('c2VjcmV0LWhtYWMta2V5');
  await page.evaluate(() => document.getElementById('acme-accounts-heading')?.scrollIntoView({ block: 'start' }));
}

/** A new route with Let's Encrypt picked before any account exists: the way to add one. */
async function pickLetsEncrypt(page) {
  await page.getByLabel("Certificate from Let's Encrypt", { exact: false }).check();
  await page.getByText('No account yet.', { exact: false }).waitFor();
  await page.evaluate(() => document.getElementById('route-tls-hint')?.scrollIntoView({ block: 'start' }));
}

/** Adding an acme-dns provider: its registration's fields and the CNAME to create. */
async function addAcmeDnsProvider(page) {
  await page.getByRole('button', { name: 'Add DNS provider', exact: true }).click();
  const form = page.getByRole('form', { name: 'Add a DNS provider' });
  await form.getByLabel('Kind').selectOption('acme-dns');
  await form.getByLabel('Name', { exact: true }).fill('acme-dns at home');
  await form.getByLabel('Full domain', { exact: true }).fill('d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.acme-dns.io');
  await form.getByRole('button', { name: 'Add DNS provider', exact: true }).click();
  await page.evaluate(() => document.getElementById('dns-providers-heading')?.scrollIntoView({ block: 'start' }));
}

/** The dashboard scrolled to the streams (what SCREEN_ONLY shows). */
async function showStreams(page) {
  await page.getByRole('heading', { level: 2, name: 'Streams' }).waitFor();
  await page.evaluate(() => document.getElementById('streams-heading')?.scrollIntoView({ block: 'start' }));
}

/** Add stream with the FTP preset and a port below 1024 typed: the FTP part and the low-port hint. */
async function ftpStreamForm(page) {
  await page.getByText('FTP', { exact: true }).click();
  await page.getByLabel('Listen port (TCP)').fill('21');
  await page.getByLabel('Server 1').fill('10.33.0.5:21');
  await page.getByRole('group', { name: 'FTP', exact: true }).scrollIntoViewIfNeeded();
}

/** The first-run ports checked, stream ports included. */
async function checkPortsWithStreams(page) {
  await page.getByRole('button', { name: 'Check ports', exact: true }).click();
  await page.getByRole('list', { name: 'Port check results' }).waitFor();
}

/** The route page's request inspector, scrolled to its captures. */
async function showInspector(page) {
  await page.getByRole('list', { name: 'Captured requests' }).scrollIntoViewIfNeeded();
}

/** A capture opened: its facts, timing bar, headers (a long CSP wraps) and JSON body. */
async function openInspectorCapture(page) {
  await page.getByRole('button', { name: /\/System\/Info\/Public/ }).click();
  await page.getByRole('region', { name: /System\/Info\/Public/ }).scrollIntoViewIfNeeded();
}

/** A binary answer opened (shown as hex), then replayed. */
async function replayInspectorCapture(page) {
  await page.getByRole('button', { name: /Images\/Primary/ }).click();
  await page.getByRole('button', { name: 'Replay', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Replayed' }).scrollIntoViewIfNeeded();
}

/** The route page at 30 days (the 1 h view is what it opens with). */
async function showThirtyDays(page) {
  await page.getByRole('button', { name: 'Show the last 30 days' }).click();
  await page.locator('section.graphs[data-range="30d"][data-rendered]').waitFor();
}

/** The dashboard once every route's sparkline has arrived. */
async function sparklinesShown(page) {
  await page.locator('svg.sparkline').first().waitFor();
}

/** The route page once its charts have drawn. */
async function graphsDrawn(page) {
  await page.locator('section.graphs[data-rendered]').waitFor();
}

/** The route page with the traffic chart's numbers open (the screen-reader table, as a sighted user sees it). */
async function openTrafficNumbers(page) {
  await graphsDrawn(page);
  await page.locator('figure.chart').first().getByText('Numbers').click();
  await page.locator('figure.chart').first().locator('table').scrollIntoViewIfNeeded();
}

/** Jellyfin's route page with the doctor run: a name that resolves elsewhere and an untrusted CA. */
async function runDoctor(page) {
  await page.getByRole('button', { name: 'Check this route', exact: true }).click();
  await page.getByRole('list', { name: "Doctor's checks for Jellyfin" }).waitFor();
  await page.evaluate(() => document.getElementById('doctor-heading')?.closest('section')?.scrollIntoView({ block: 'start' }));
}

/** The doctor's call failed: the error notice, and the button to try again. */
async function failDoctor(page) {
  await page.getByRole('button', { name: 'Check this route', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await page.evaluate(() => document.getElementById('doctor-heading')?.closest('section')?.scrollIntoView({ block: 'start' }));
}

/** The doctor while it checks. */
async function startDoctor(page) {
  await page.getByRole('button', { name: 'Check this route', exact: true }).click();
  await page.getByRole('button', { name: 'Checking…', exact: true }).waitFor();
  await page.evaluate(() => document.getElementById('doctor-heading')?.closest('section')?.scrollIntoView({ block: 'start' }));
}

/** Backup page: a scheduled backup chosen, its passphrase entered, the restore preview shown. */
async function previewScheduledRestore(page) {
  const select = page.getByLabel('Or a scheduled backup');
  const first = await select.locator('option').nth(1).getAttribute('value');
  await select.selectOption(first);
  await page.getByLabel('Its passphrase').fill('a long backup passphrase');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await page.getByRole('heading', { level: 3, name: /What restoring/ }).scrollIntoViewIfNeeded();
}

/** Backup page: Back up now with two passphrases that differ. */
async function mismatchedPassphrases(page) {
  await page.locator('#backup-passphrase').fill('a long backup passphrase');
  await page.locator('#backup-passphrase-again').fill('another passphrase');
  await page.getByRole('button', { name: 'Back up now', exact: true }).click();
}

const screens = [
  ['phone', { width: 390, height: 844 }],
  ['desktop', { width: 1280, height: 800 }],
];

/** Move in from NPM: a copied folder previewed (every kind of item, with its notes). */
async function previewNpmFolder(page) {
  await page.getByLabel('Folder', { exact: true }).fill('/srv/npm-data');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await page.getByRole('heading', { name: 'What would come in' }).waitFor();
}

/** …and imported: what came in, what did not and why. */
async function importNpmFolder(page) {
  await previewNpmFolder(page);
  await page.getByRole('button', { name: /^Import \d+ items?$/ }).click();
  await page.getByRole('heading', { name: 'Imported' }).waitFor();
}

/** A folder that is not there: the field says what to copy. */
async function previewMissingNpmFolder(page) {
  await page.getByLabel('Folder', { exact: true }).fill('/nowhere/npm');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await page.locator('#npm-folder-error').waitFor();
}

/** The route form with "Redirect to another address" chosen: the target, status and keep-path. */
async function showRedirectChoice(page) {
  await page.locator('#route-redirect-keep-path').scrollIntoViewIfNeeded();
}

// [file name, query (the fake's scenario), hash, optional steps before the shot, only on this screen]
const shots = [
  ['nav-open', '', '#/', openMenu, 'phone'],
  ['logs-expanded', '', '#/logs', openFailedRequest],
  ['logs-refused', '', '#/logs', openRefusedRequest],
  ['logs-search-older', '', '#/logs', searchOlderEntries],
  ['logs-search-invalid', '', '#/logs', searchBackwardsRange],
  ['logs-search-load-older', '', '#/logs', loadOlderEntries],
  ['stop-proxy', '', '#/', askToStop],
  ['dashboard', '', '#/'],
  ['dashboard-redirect', '?scenario=redirect', '#/'],
  ['route-redirect', '?scenario=redirect', '#/routes/route-r', showRedirectChoice],
  ['discovery', '', '#/discovery'],
  ['discovery-probe', '', '#/discovery', probeJellyfinHost],
  ['discovery-empty', '?scenario=empty', '#/discovery'],
  ['discovery-off', '?scenario=mdns-off', '#/discovery'],
  ['discovery-failed', '?scenario=mdns-failed', '#/discovery'],
  ['add-route-mapped', '', '#/discovery', mapHomeAssistant],
  ['dashboard-empty', '?scenario=empty', '#/'],
  ['add-route', '', '#/routes/new'],
  ['edit-route', '', '#/routes/route-b'],
  ['edit-route-servers', '', '#/routes/route-d'],
  ['add-route-passthrough', '', '#/routes/new', choosePassthrough],
  ['edit-route-check', '', '#/routes/route-d', openHealthCheck],
  ['drain-upstream', '', '#/', askToDrain],
  ['logs', '', '#/logs'],
  ['settings', '', '#/settings'],
  ['certificates', '', '#/certificates'],
  ['certificates-acme', '', '#/certificates', openRateLimitDetails],
  ['acme-add-account', '', '#/certificates', addEabAccount],
  ['route-acme-preflight', '', '#/routes/route-g', checkAcmeSetup],
  ['route-acme-no-account', '?scenario=empty', '#/routes/new', pickLetsEncrypt],
  ['acme-dns-provider', '', '#/certificates', addAcmeDnsProvider],
  ['access', '', '#/access'],
  ['access-long-list', '', '#/access', editLongList],
  ['access-check', '', '#/access', checkDeniedAddress],
  ['access-provider', '', '#/access', addAutheliaProvider],
  ['access-empty', '?scenario=empty', '#/access'],
  ['access-crowdsec-down', '?scenario=crowdsec-down', '#/access', showCrowdsec],
  ['edit-route-access', '', '#/routes/route-a', showWhoCanReach],
  ['welcome', '?scenario=first-run', '#/'],
  ['welcome-ports-streams', '?scenario=first-run', '#/', checkPortsWithStreams],
  ['dashboard-streams', '', '#/', showStreams],
  ['streams-empty', '?scenario=empty', '#/', showStreams],
  ['stream-ssh', '', '#/streams/new?preset=ssh'],
  ['stream-ftp', '', '#/streams/new', ftpStreamForm],
  ['stream-edit-failed', '', '#/streams/stream-ftp'],
  ['route-inspector', '', '#/routes/route-a/insight', showInspector],
  ['route-inspector-detail', '', '#/routes/route-a/insight', openInspectorCapture],
  ['route-inspector-replay', '', '#/routes/route-a/insight', replayInspectorCapture],
  ['route-inspector-off', '', '#/routes/route-b/insight'],
  ['route-doctor', '', '#/routes/route-a/insight', runDoctor],
  ['route-doctor-checking', '?scenario=doctor-slow', '#/routes/route-a/insight', startDoctor],
  ['route-doctor-error', '?scenario=doctor-error', '#/routes/route-a/insight', failDoctor],
  ['move-in', '', '#/move-in'],
  ['move-in-preview', '', '#/move-in', previewNpmFolder],
  ['move-in-imported', '', '#/move-in', importNpmFolder],
  ['move-in-missing', '', '#/move-in', previewMissingNpmFolder],
  ['backup', '', '#/backup'],
  ['backup-empty', '?scenario=empty', '#/backup'],
  ['backup-restore-preview', '', '#/backup', previewScheduledRestore],
  ['backup-mismatch', '?scenario=empty', '#/backup', mismatchedPassphrases],
  ['not-found', '', '#/nowhere'],
  ['dashboard-sparklines', '', '#/', sparklinesShown],
  ['route-insight-1h', '', '#/routes/route-d/insight', graphsDrawn],
  ['route-insight-30d', '', '#/routes/route-a/insight', showThirtyDays],
  ['route-insight-numbers', '', '#/routes/route-a/insight', openTrafficNumbers],
  ['route-insight-empty', '', '#/routes/route-c/insight', graphsDrawn],
];
const errors = [];
try {
  for (const [screen, viewport] of screens) for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport, colorScheme: scheme });
    await context.addInitScript(bridgeScript);
    for (const [name, query, hash, steps, only] of shots) {
      if ((only && only !== screen) || (process.env.SHOTS && !new RegExp(process.env.SHOTS).test(name))) continue;
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
      page.on('console', (message) => message.type() === 'error' && errors.push(`${name}: ${message.text()}`));
      await page.goto(`${base}${query}${hash}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForTimeout(300);
      if (steps) {
        await steps(page);
        await page.waitForTimeout(300);
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > viewport.width) errors.push(`${name}-${screen}: the page is ${width} px wide on a ${viewport.width} px screen`);
      await page.screenshot({ path: join(out, `${name}-${screen}-${scheme}.png`), fullPage: !process.env.SCREEN_ONLY && !name.endsWith('-open') && name !== 'stop-proxy' && name !== 'drain-upstream' });
      await page.close();
    }
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`screenshots in ${out}`);
if (errors.length) console.log(`page errors:\n${errors.join('\n')}`);
