// The forward-auth servers Gatehouse has presets for: the exact endpoint to enter, the headers to
// copy, and where each fact comes from. Shared, so the Access page shows exactly what the core uses.
// Imports nothing but types: this file is bundled into the renderer.
import type { ForwardAuthPreset } from './access.js';

// Each preset's facts and where they come from. All four are asked with the Traefik/Caddy-style
// contract (core/access/forward-auth.ts: X-Forwarded-*, any non-2xx passed back), so each endpoint is the one documented
// for that contract.
export const FORWARD_AUTH_PRESETS: readonly ForwardAuthPreset[] = [
  {
    // https://www.authelia.com/integration/proxies/traefik/ and /caddy/: forwardAuth address
    // http://authelia:9091/api/authz/forward-auth (Authelia 4.38+; before that /api/verify),
    // authResponseHeaders Remote-User, Remote-Groups, Remote-Email, Remote-Name. The endpoint reads
    // X-Forwarded-Method/Proto/Host/URI/For (integration/proxies/introduction, "Required Headers")
    // and answers 200 or a 302 to its portal with rd= the original URL.
    kind: 'authelia',
    label: 'Authelia',
    path: '/api/authz/forward-auth',
    examplePort: 9091,
    copyHeaders: ['Remote-User', 'Remote-Groups', 'Remote-Email', 'Remote-Name'],
    docs: 'https://www.authelia.com/integration/proxies/traefik/',
    hint: "Enter http://<Authelia's address>:9091/api/authz/forward-auth (Authelia 4.38 or later; older versions use /api/verify). Authelia's session cookie domain must cover this route's name, and its access control must have a rule for it.",
    userHeader: 'Remote-User',
  },
  {
    // https://docs.goauthentik.io/add-secure-apps/providers/proxy/server_traefik/: forwardAuth
    // address http://outpost.company:9000/outpost.goauthentik.io/auth/traefik and the
    // X-authentik-* authResponseHeaders. The /auth/nginx endpoint is for nginx's auth_request: it
    // answers 401 and wants X-Original-URL plus an error_page redirect; /auth/caddy and
    // /auth/traefik read X-Forwarded-* and redirect to the login themselves, which is what
    // Gatehouse sends and passes on. Traefik's is the documented one for exactly that contract.
    kind: 'authentik',
    label: 'Authentik',
    path: '/outpost.goauthentik.io/auth/traefik',
    examplePort: 9000,
    copyHeaders: [
      'X-authentik-username',
      'X-authentik-groups',
      'X-authentik-entitlements',
      'X-authentik-email',
      'X-authentik-name',
      'X-authentik-uid',
      'X-authentik-jwt',
      'X-authentik-meta-jwks',
      'X-authentik-meta-outpost',
      'X-authentik-meta-provider',
      'X-authentik-meta-app',
      'X-authentik-meta-version',
    ],
    docs: 'https://docs.goauthentik.io/add-secure-apps/providers/proxy/server_traefik/',
    hint: "Enter http://<Authentik's address>:9000/outpost.goauthentik.io/auth/traefik (the embedded outpost, or your outpost's address). In Authentik, use a Proxy Provider in \"Forward auth (domain level)\" mode whose authentication URL is Authentik's own public address.",
    userHeader: 'X-authentik-username',
  },
  {
    // https://tinyauth.app/docs/getting-started: forwardauth.address
    // http://tinyauth:3000/api/auth/traefik (the /api/auth/nginx endpoint answers 401 for nginx's
    // error_page instead of redirecting). Headers: https://tinyauth.app/docs/reference/headers —
    // Remote-User, Remote-Email, Remote-Name, Remote-Groups.
    kind: 'tinyauth',
    label: 'Tinyauth',
    path: '/api/auth/traefik',
    examplePort: 3000,
    copyHeaders: ['Remote-User', 'Remote-Email', 'Remote-Name', 'Remote-Groups'],
    docs: 'https://tinyauth.app/docs/reference/headers',
    hint: "Enter http://<tinyauth's address>:3000/api/auth/traefik. tinyauth's APP_URL is its own public address, on a name under the same parent domain as this route.",
    userHeader: 'Remote-User',
  },
  {
    // https://oauth2-proxy.github.io/oauth2-proxy/configuration/integrations/nginx: /oauth2/auth
    // "only returns a 202 Accepted response or a 401 Unauthorized response"; with --set-xauthrequest
    // it sends X-Auth-Request-User, -Email, -Preferred-Username, -Groups (and with
    // --pass-access-token X-Auth-Request-Access-Token). The 401 becomes a redirect (see the top).
    kind: 'oauth2-proxy',
    label: 'oauth2-proxy',
    path: '/oauth2/auth',
    examplePort: 4180,
    copyHeaders: ['X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Auth-Request-Preferred-Username', 'X-Auth-Request-Groups'],
    docs: 'https://oauth2-proxy.github.io/oauth2-proxy/configuration/integrations/nginx',
    hint: "Enter oauth2-proxy's PUBLIC address with /oauth2/auth, such as https://oauth.example.com/oauth2/auth (a Gatehouse route to oauth2-proxy): visitors who are not signed in are sent to /oauth2/start there. Run oauth2-proxy with --reverse-proxy, --set-xauthrequest, --cookie-domain and --whitelist-domain covering this route's name.",
    userHeader: 'X-Auth-Request-User',
  },
];

