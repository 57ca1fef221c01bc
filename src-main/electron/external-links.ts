// Which links may leave the app for the user's browser (shell.openExternal). Kept free of electron so
// it is tested under node. Everything else a page tries to open is dropped and logged.
//
// Allowed, and nothing else (never file:, smb:, javascript:, custom schemes, or credentials in a URL):
// 1. https:// links, default port, to the documentation hosts below (exact host, no subdomains);
// 2. http:// or https:// links, any port, to a name one of the user's routes serves (exact or under
//    its *.wildcard): the dashboard's "open this service" links;
// 3. http:// or https:// links to exactly a route's upstream (scheme, host and port): "open directly".
import type { Route } from '../../shared/model.js';

/** Documentation the UI links to. */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['github.com', 'letsencrypt.org'];

function parseWebUrl(url: string): URL | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  if (parsed.username !== '' || parsed.password !== '') return null;
  return parsed;
}

/** Whether `host` is `name`, or one label under `name` when that is a `*.wildcard` (as the router matches). */
function servedBy(host: string, name: string): boolean {
  if (!name.startsWith('*.')) return host === name;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}

/** Whether `url` may go to shell.openExternal, given the documentation hosts and the user's routes. */
export function isAllowedExternalUrl(
  url: string,
  policy: { docHosts?: readonly string[]; routes?: readonly Pick<Route, 'names' | 'upstreams'>[] } = {},
): boolean {
  const parsed = parseWebUrl(url);
  if (!parsed) return false;
  const docHosts = policy.docHosts ?? EXTERNAL_LINK_HOSTS;
  if (parsed.protocol === 'https:' && parsed.port === '' && docHosts.includes(parsed.hostname)) return true;
  for (const route of policy.routes ?? []) {
    if (route.names.some((name) => servedBy(parsed.hostname, name))) return true;
    for (const target of route.upstreams) {
      const upstream = parseWebUrl(target.url);
      if (upstream && upstream.protocol === parsed.protocol && upstream.host === parsed.host) return true;
    }
  }
  return false;
}
