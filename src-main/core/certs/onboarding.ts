// Getting the local CA onto other devices: the CA as files each OS installs (PEM, DER, an Apple
// configuration profile) and the onboarding page at http://<gatehouse-host>/ca that hands them out
// on the LAN. Everything here is public (the CA certificate, never its key), and the page is served
// over plain HTTP on purpose: a device that does not trust the CA yet cannot open it over HTTPS.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CaDownload } from '../../../shared/status.js';
import type { PublicPages } from '../proxy/tls-certificates.js';
import type { LocalCaInfo } from './local-ca.js';
// The profile is XML: the page's escaping (& < > " ') is as right for its text as for HTML.
import { escapeHtml } from '../html.js';
import { caDisplayName, renderOnboardingPage } from './onboarding-page.js';

/** The formats of downloadCa in shared/api.ts. */
export type CaFormat = 'pem' | 'der' | 'mobileconfig';

interface CaFileType {
  fileName: string;
  mimeType: string;
}

/**
 * One name for every format, so a person sees the same file in Downloads whichever device got it.
 * `.crt` holds DER: Android's certificate installer and Windows' double-click both take it.
 */
export const CA_FILES: Record<CaFormat, CaFileType> = {
  pem: { fileName: 'gatehouse-ca.pem', mimeType: 'application/x-pem-file' },
  der: { fileName: 'gatehouse-ca.crt', mimeType: 'application/x-x509-ca-cert' },
  mobileconfig: { fileName: 'gatehouse-ca.mobileconfig', mimeType: 'application/x-apple-aspen-config' },
};

/** The CA certificate as a file to save or send, in `format`. */
export function caDownload(info: LocalCaInfo, format: CaFormat): CaDownload {
  return { ...CA_FILES[format], base64: caFileBytes(info, format).toString('base64') };
}

function caFileBytes(info: LocalCaInfo, format: CaFormat): Buffer {
  switch (format) {
    case 'pem':
      return Buffer.from(info.certificatePem, 'utf8');
    case 'der':
      return Buffer.from(info.certificateDer);
    case 'mobileconfig':
      return Buffer.from(appleProfile(info), 'utf8');
  }
}

/**
 * An unsigned Apple configuration profile with one com.apple.security.root payload. iOS installs
 * it from Safari (Settings › General › VPN & Device Management); the UUIDs and identifiers come from
 * the fingerprint, so downloading it twice gives the same profile and iOS replaces instead of
 * piling up copies, while a new CA gets a profile of its own.
 */
function appleProfile(info: LocalCaInfo): string {
  const fingerprintHex = info.fingerprintSha256.replace(/:/g, '').toLowerCase();
  const identifier = `local.gatehouse.ca.${fingerprintHex.slice(0, 16)}`;
  const name = caDisplayName(info);
  const description =
    `Adds ${name} as a trusted root certificate, so this device accepts the HTTPS certificates ` +
    `Gatehouse issues for your home network (${info.permittedDomains.join(', ')}). ` +
    `The CA cannot issue certificates for any other domain. SHA-256 fingerprint: ${info.fingerprintSha256}.`;
  const der = Buffer.from(info.certificateDer).toString('base64').replace(/.{1,64}/g, '\t\t\t$&\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>${CA_FILES.der.fileName}</string>
			<key>PayloadContent</key>
			<data>
${der}			</data>
			<key>PayloadDescription</key>
			<string>${escapeHtml(description)}</string>
			<key>PayloadDisplayName</key>
			<string>${escapeHtml(name)}</string>
			<key>PayloadIdentifier</key>
			<string>${identifier}.root</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>${uuidFrom(fingerprintHex, 'root')}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>${escapeHtml(description)}</string>
	<key>PayloadDisplayName</key>
	<string>${escapeHtml(name)}</string>
	<key>PayloadIdentifier</key>
	<string>${identifier}</string>
	<key>PayloadOrganization</key>
	<string>Gatehouse</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>${uuidFrom(fingerprintHex, 'profile')}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
`;
}

/** A name-based UUID (version 5 layout) for one part of the profile of one CA. */
function uuidFrom(fingerprintHex: string, part: string): string {
  const bytes = createHash('sha1').update(`gatehouse-ca-profile:${part}:${fingerprintHex}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// The onboarding page on the HTTP listener

/** Where the page lives; the engine offers every request for a Host no route claims. */
export const ONBOARDING_PATH = '/ca';

/** The strict policy of the page: no script, no outside resource, only its own inline style. */
export const ONBOARDING_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const ALLOWED_METHODS = 'GET, HEAD';

const DOWNLOAD_PATHS = new Map<string, CaFormat>(
  (Object.entries(CA_FILES) as [CaFormat, CaFileType][]).map(([format, file]) => [`${ONBOARDING_PATH}/${file.fileName}`, format]),
);

/** Headers every answer under /ca carries: nothing here may be cached, framed or sniffed. */
const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The onboarding page and its downloads, for the engine's HTTP listener. `getCa` is called per
 * request, so a CA replaced by a change of domains is what the next visitor gets. `adminLink` gives
 * the admin's https URL for that request when the admin listens on the LAN (null: no link); it is
 * only asked for a client the engine lets see internals, so a visitor from outside (or through a
 * tunnel) never learns the admin's LAN address.
 */
export function onboardingPages(getCa: () => LocalCaInfo, adminLink: (req: IncomingMessage) => string | null = () => null): PublicPages {
  return {
    handle(req, res, seesDetails) {
      const path = pathOf(req.url);
      if (path !== ONBOARDING_PATH && !path.startsWith(`${ONBOARDING_PATH}/`)) return false;
      const format = DOWNLOAD_PATHS.get(path);
      const isPage = path === ONBOARDING_PATH || path === `${ONBOARDING_PATH}/`;
      if (!isPage && format === undefined) {
        answer(req, res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, `Nothing here. The certificate page is at ${ONBOARDING_PATH}.\n`);
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        answer(req, res, 405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: ALLOWED_METHODS }, `Only ${ALLOWED_METHODS} work here.\n`);
      } else {
        answerWithCa(req, res, getCa, format, () => (seesDetails() ? adminLink(req) : null));
      }
      return true;
    },
  };
}

function answerWithCa(
  req: IncomingMessage,
  res: ServerResponse,
  getCa: () => LocalCaInfo,
  format: CaFormat | undefined,
  adminLink: () => string | null,
): void {
  let info: LocalCaInfo;
  try {
    info = getCa();
  } catch (error) {
    const body = `The local CA is not available: ${(error as Error).message}\nOpen Gatehouse on the host to see why.\n`;
    answer(req, res, 503, { 'Content-Type': 'text/plain; charset=utf-8' }, body);
    return;
  }
  if (format === undefined) {
    answer(req, res, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': ONBOARDING_CSP }, renderOnboardingPage(info, adminLink()));
    return;
  }
  const file = CA_FILES[format];
  answer(
    req,
    res,
    200,
    { 'Content-Type': file.mimeType, 'Content-Disposition': `attachment; filename="${file.fileName}"` },
    caFileBytes(info, format),
  );
}

function answer(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Length': String(bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** The path of a request target without its query; absolute-form targets ("http://host/ca") too. */
function pathOf(target: string | undefined): string {
  try {
    return new URL(target ?? '/', 'http://gatehouse.invalid').pathname;
  } catch {
    return '';
  }
}
