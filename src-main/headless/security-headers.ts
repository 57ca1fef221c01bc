// The headers every admin response carries; a page that needs more (the one-time link's form) changes
// one from here rather than writing its own policy.

/** Sent with every response: the UI loads only its own scripts, styles and API, and is never framed. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // The same policy as the meta tag in src-renderer/index.html (which is all a file:// page in
  // Electron gets), plus what only a header can say (frame-ancestors).
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};
