// The names of the admin's session cookie (headless/auth/session-cookie.ts says why there are two).
// They live here, below both, because the proxy must know them too: it strips them from what it
// sends upstream, so a service on a route that shares the admin's host name never sees the owner's
// session.
export const SECURE_COOKIE_NAME = '__Host-gatehouse-session';
export const PLAIN_COOKIE_NAME = 'gatehouse-session';
