// The one renderer of the pages Gatehouse answers with itself: a readable page that names the route
// and the cause, never a stack or an internal detail. Browsers get HTML; other clients plain text.
import { STATUS_CODES } from 'node:http';
import { escapeHtml } from '../html.js';
import { proxyErrors, type ProxyError } from './errors.js';

export interface ErrorPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}


const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1c2026}' +
  'main{max-width:36rem;padding:2rem}h1{font-size:1.4rem;margin:0 0 .5rem}p{margin:.5rem 0}.code{color:#5b6472;font-size:.85rem}' +
  '@media (prefers-color-scheme:dark){body{background:#15181d;color:#e6e8eb}.code{color:#9aa3ad}}';

/**
 * The page for `error`. `route` is the route's title when one matched (named on the page so the user
 * knows which mapping to check); `wantsHtml` comes from the request's Accept header.
 */
export function renderErrorPage(error: ProxyError, route: string | null, wantsHtml: boolean): ErrorPage {
  const { status, title } = proxyErrors[error.code];
  const heading = route ? `${title}: ${route}` : title;
  const headers: Record<string, string> = {
    'cache-control': 'no-store',
    'x-gatehouse-error': error.code,
    'x-content-type-options': 'nosniff',
  };
  if (!wantsHtml) {
    headers['content-type'] = 'text/plain; charset=utf-8';
    return { status, headers, body: `${status} ${heading}\n${error.detail}\n` };
  }
  headers['content-type'] = 'text/html; charset=utf-8';
  headers['content-security-policy'] = "default-src 'none'; style-src 'unsafe-inline'";
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${status} ${escapeHtml(heading)}</title><style>${STYLE}</style></head><body><main>` +
    `<h1>${escapeHtml(heading)}</h1><p>${escapeHtml(error.detail)}</p>` +
    `<p class="code">${status} ${escapeHtml(STATUS_CODES[status] ?? '')} · ${error.code} · answered by Gatehouse</p>` +
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
