// The one renderer of the pages Gatehouse answers with itself. Every visitor gets the same page: the
// service by its route title, in plain words, a retry link and the server's time, never a stack or
// anything from behind the proxy. The detail (upstream address, cause, fix) is added only for
// clients the `proxy.errorDetails` setting allows (see error-audience.ts). Browsers get HTML; other
// clients plain text, under the same rule.
import { STATUS_CODES } from 'node:http';
import { escapeHtml } from '../html.js';
import { proxyErrors, visitorSentence, type ProxyError } from './errors.js';

/** Refusals a retry will not change: their page offers no "try again". */
const FINAL = new Set(['access_denied', 'lan_only', 'country_denied', 'banned', 'scanner_probe', 'sign_in_required', 'body_too_large']);

export interface ErrorPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ErrorPageOptions {
  /** The matched route's title, or null when none matched. */
  route: string | null;
  /** From the request's Accept header (acceptsHtml). */
  html: boolean;
  /** The client may see the failure's detail. Default: false. */
  details?: boolean;
  /** The time the page states. Default: now. */
  now?: Date;
}

// Fits 320 px and up: the button wraps under the text, nothing has a fixed width.
const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1c2026}' +
  'main{max-width:36rem;padding:1.5rem;box-sizing:border-box;overflow-wrap:anywhere}h1{font-size:1.4rem;margin:0 0 .5rem}p{margin:.5rem 0}' +
  '.retry{display:inline-block;margin:.75rem 0;padding:.6rem 1.2rem;border-radius:.4rem;background:#1f5fbf;color:#fff;text-decoration:none;font-weight:600}' +
  '.meta{color:#5b6472;font-size:.85rem}.details{margin-top:1rem;padding:.75rem 1rem;border-left:3px solid #c77700;background:#fff4e0}' +
  '.details h2{font-size:1rem;margin:0 0 .25rem}' +
  '@media (prefers-color-scheme:dark){body{background:#15181d;color:#e6e8eb}.meta{color:#9aa3ad}.retry{background:#4d8ee8;color:#0b0d10}' +
  '.details{background:#2a2216;border-color:#e0a040}}';

/** The server's time as people read it, with its zone: "2026-12-06 01:50:12 UTC". */
export function pageTime(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The page for `error`, with the detail only when `options.details`. */
export function renderErrorPage(error: ProxyError, options: ErrorPageOptions): ErrorPage {
  const spec = proxyErrors[error.code];
  const { status } = spec;
  const details = options.details === true;
  const now = options.now ?? new Date();
  const sentence = visitorSentence(error, options.route);
  const headers: Record<string, string> = {
    'cache-control': 'no-store',
    'x-gatehouse-error': details ? error.code : spec.publicCode,
    'x-content-type-options': 'nosniff',
    ...error.refusal?.headers,
  };
  const retry = !FINAL.has(error.code);
  if (!options.html) {
    headers['content-type'] = 'text/plain; charset=utf-8';
    let body = `${status} ${sentence}\n${retry ? 'Try again in a moment (request the same address).\n' : ''}Time: ${pageTime(now)}\n`;
    if (details) body += `\nDetails (shown to this machine's own network): ${spec.title}\n${error.detail}\n${error.refusal ? `Rule: ${error.refusal.rule}\n` : ''}`;
    return { status, headers, body };
  }
  headers['content-type'] = 'text/html; charset=utf-8';
  headers['content-security-policy'] = "default-src 'none'; style-src 'unsafe-inline'";
  const reason = STATUS_CODES[status] ?? '';
  const detailBlock = details
    ? `<section class="details"><h2>${escapeHtml(spec.title)}</h2><p>${escapeHtml(error.detail)}</p>` +
      (error.refusal ? `<p>Rule: ${escapeHtml(error.refusal.rule)}</p>` : '') +
      `<p class="meta">${error.code} · shown because you are on this machine's own network</p></section>`
    : '';
  // href="" is the page's own address: the retry asks for exactly what failed, with no script.
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="color-scheme" content="light dark"><title>${status} ${escapeHtml(sentence)}</title><style>${STYLE}</style></head><body><main>` +
    `<h1>${escapeHtml(sentence)}</h1>` +
    (retry ? `<p>Please try again in a moment.</p><a class="retry" href="">Try again</a>` : '') +
    `<p class="meta">${status} ${escapeHtml(reason)} · <time datetime="${now.toISOString()}">${pageTime(now)}</time> · answered by Gatehouse</p>` +
    detailBlock +
    `</main></body></html>\n`;
  return { status, headers, body };
}

/** True when the client asked for HTML (a browser); API clients and curl get plain text. */
export function acceptsHtml(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

/** The page as raw bytes, for sockets that are no longer an HTTP response (upgrades, parse errors). */
export function rawErrorResponse(page: ErrorPage): string {
  const lines = [`HTTP/1.1 ${page.status} ${STATUS_CODES[page.status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(page.headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${Buffer.byteLength(page.body)}`, 'connection: close', '', '');
  return lines.join('\r\n') + page.body;
}
