// The onboarding page a phone or laptop opens at http://<gatehouse-host>/ca: which file to take on
// each OS, the steps to trust it, and the fingerprint to compare with the one the app shows. One
// self-contained HTML document (no script, no outside resource: its CSP forbids both), readable on
// a phone in light and dark mode. Every value from the certificate is escaped.
import { X509Certificate } from 'node:crypto';
import { escapeHtml } from '../html.js';
import type { LocalCaInfo } from './local-ca.js';

// Absolute paths: the page is served at both /ca and /ca/, where relative links would differ.
const PEM = '/ca/gatehouse-ca.pem';
const CRT = '/ca/gatehouse-ca.crt';
const PROFILE = '/ca/gatehouse-ca.mobileconfig';

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --card: #f4f6f8; --line: #d0d7de; --accent: #0b57d0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --card: #161b22; --line: #30363d; --accent: #79b8ff; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; -webkit-text-size-adjust: 100%; }
main { max-width: 44rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 0; }
p, li { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .75rem; padding: 1rem; margin: 1rem 0; }
.fingerprint { font: 600 1rem/1.6 ui-monospace, "SF Mono", Menlo, Consolas, monospace; letter-spacing: .02em; overflow-wrap: normal; margin: .25rem 0 0; }
#sha1 { overflow-wrap: normal; }
.downloads { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
.downloads a { flex: 1 1 12rem; display: block; text-align: center; padding: .8rem 1rem; border-radius: .6rem; background: var(--accent); color: var(--bg); font-weight: 600; text-decoration: none; }
.downloads a:focus-visible, summary:focus-visible { outline: 3px solid var(--fg); outline-offset: 2px; }
details { border: 1px solid var(--line); border-radius: .75rem; margin: .75rem 0; padding: 0 1rem; }
summary { cursor: pointer; padding: .85rem 0; font-weight: 600; }
details[open] { padding-bottom: .5rem; }
ol, ul { padding-left: 1.4rem; }
code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .9em; background: var(--card); border-radius: .3rem; padding: .05rem .3rem; overflow-wrap: anywhere; }
a { color: var(--accent); }
`;

/**
 * The page for `info`, as one HTML document. `adminUrl` (the admin's https address, when it listens
 * on the LAN) adds a link to it; the page says nothing else about the admin.
 */
export function renderOnboardingPage(info: LocalCaInfo, adminUrl: string | null = null): string {
  const name = escapeHtml(caDisplayName(info));
  const sha256 = breakableFingerprint(info.fingerprintSha256);
  const sha1 = breakableFingerprint(new X509Certificate(info.certificatePem).fingerprint);
  const domains = info.permittedDomains.map((domain) => `<code>${escapeHtml(domain)}</code>`).join(', ');
  const until = escapeHtml(info.notAfter.toISOString().slice(0, 10));
  const nickname = escapeHtml(`Gatehouse local CA ${info.fingerprintSha256.replace(/:/g, '').slice(0, 8).toLowerCase()}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Trust ${name}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Trust this home network's HTTPS</h1>
<p>Gatehouse gives the sites on this network HTTPS certificates signed by <strong>${name}</strong>.
Install that certificate once on each device, and its browsers show a padlock instead of a warning.</p>
<div class="card">
<h2>Compare before you install</h2>
<p class="muted">This SHA-256 fingerprint must match the one on Gatehouse's Certificates page. If it differs, stop: someone may be in the middle.</p>
<p class="fingerprint" id="fingerprint">${sha256}</p>
<p class="muted">Windows and macOS show the SHA-1 thumbprint instead: <code id="sha1">${sha1}</code></p>
<p class="muted">It can only vouch for names under ${domains}, so it cannot be used to impersonate your bank. Valid until ${until}.</p>
</div>
<div class="downloads">
<a href="${PROFILE}" download>iPhone and iPad profile</a>
<a href="${CRT}" download>Certificate (.crt)</a>
<a href="${PEM}" download>Certificate (.pem)</a>
</div>
<details id="ios">
<summary>iPhone and iPad</summary>
<ol>
<li>Open this page in Safari and tap <a href="${PROFILE}">the profile</a>; allow the download.</li>
<li>Open Settings › General › VPN &amp; Device Management, tap <em>${name}</em> under Downloaded Profile, then Install and enter your passcode.</li>
<li>Turn on full trust: Settings › General › About › Certificate Trust Settings, switch on <em>${name}</em>. Without this step Safari still warns.</li>
</ol>
</details>
<details id="android">
<summary>Android</summary>
<ol>
<li>Download <a href="${CRT}">gatehouse-ca.crt</a>.</li>
<li>Open Settings › Security › Encryption &amp; credentials › Install a certificate › CA certificate, confirm with Install anyway, and choose the file. (The menu names vary a little by maker; searching Settings for “CA certificate” finds it.)</li>
</ol>
<p class="muted">Chrome and the system browser honour a CA installed this way. Many apps do not: since Android 7 an app trusts user-installed CAs only if its developer opted in. Firefox for Android needs Settings › About Firefox (tap the logo five times) › Secret settings › Use third-party CA certificates.</p>
</details>
<details id="windows">
<summary>Windows</summary>
<ol>
<li>Download <a href="${CRT}">gatehouse-ca.crt</a> and open it; check the thumbprint on the Details tab against the SHA-1 above.</li>
<li>Choose Install Certificate › Current User › Place all certificates in the following store › Trusted Root Certification Authorities, then Finish and Yes.</li>
</ol>
<p class="muted">Or in a terminal: <code>certutil -user -addstore Root gatehouse-ca.crt</code>. Edge and Chrome use this store.</p>
</details>
<details id="macos">
<summary>macOS</summary>
<ol>
<li>Download <a href="${PEM}">gatehouse-ca.pem</a> and open it: Keychain Access adds it to the login keychain.</li>
<li>In Keychain Access, open <em>${name}</em>, expand Trust and set When using this certificate to Always Trust; close the window and enter your password.</li>
</ol>
<p class="muted">Or in Terminal: <code>security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db gatehouse-ca.pem</code>. Safari and Chrome use this store.</p>
</details>
<details id="linux">
<summary>Linux</summary>
<p>System store (curl, most programs), Debian and Ubuntu:</p>
<p><code>sudo cp gatehouse-ca.pem /usr/local/share/ca-certificates/gatehouse-ca.crt &amp;&amp; sudo update-ca-certificates</code></p>
<p>Fedora and its relatives:</p>
<p><code>sudo cp gatehouse-ca.pem /etc/pki/ca-trust/source/anchors/ &amp;&amp; sudo update-ca-trust extract</code></p>
<p>Chromium and Chrome read their own NSS database (package libnss3-tools or nss-tools):</p>
<p><code>certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "${nickname}" -i gatehouse-ca.pem</code></p>
<p class="muted">Firefox keeps its own store too: see below.</p>
</details>
<details id="firefox">
<summary>Firefox (any computer)</summary>
<ol>
<li>Download <a href="${PEM}">gatehouse-ca.pem</a>.</li>
<li>Open Settings › Privacy &amp; Security › Certificates › View Certificates › Authorities › Import, choose the file and tick “Trust this CA to identify websites”.</li>
</ol>
<p class="muted">On Windows and macOS Firefox can use the system store instead: in <code>about:config</code> set <code>security.enterprise_roots.enabled</code> to true.</p>
</details>
${adminUrl === null ? '' : adminSection(adminUrl)}<p class="muted">Removing it later: delete <em>${name}</em> where you installed it (the profile, the certificate list, or the keychain).</p>
</main>
</body>
</html>
`;
}

/** The link to the admin web UI, which is served over HTTPS with a certificate from this CA. */
function adminSection(adminUrl: string): string {
  const url = escapeHtml(adminUrl);
  return `<div class="card" id="admin">
<h2>Manage Gatehouse from this device</h2>
<p>Trust the certificate first (the steps above): the admin is served over HTTPS with a certificate from this CA, so until then the browser warns.</p>
<p><a href="${url}">Open the Gatehouse admin</a> <code>${url}</code></p>
</div>
`;
}

/** A fingerprint that wraps only between bytes, so no pair of digits is split over two lines. */
function breakableFingerprint(fingerprint: string): string {
  return escapeHtml(fingerprint).replace(/:/g, ':<wbr>');
}

/** The CA's common name, "Gatehouse local CA (hostname) 1a2b3c4d": it tells two Gatehouse CAs apart. */
export function caDisplayName(info: LocalCaInfo): string {
  return new X509Certificate(info.certificatePem).subject.match(/^CN=(.*)$/m)?.[1] ?? 'Gatehouse local CA';
}
