// Which links may leave the app for the user's browser. Kept free of electron so it is tested under node.

/**
 * Hosts the app may open in the user's browser, matched exactly (no subdomains): documentation the
 * UI links to. Anything else a page tries to open is dropped.
 */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['github.com', 'letsencrypt.org'];

/** Whether `url` may be handed to shell.openExternal: https, an allow-listed host, default port, no credentials. */
export function isAllowedExternalUrl(url: string, hosts: readonly string[] = EXTERNAL_LINK_HOSTS): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    hosts.includes(parsed.hostname)
  );
}
