// Where each app preset (discovery/presets.ts) takes a password: the requests a password guesser
// repeats, which get the route's tighter "sign-in attempts a minute" limit. Only the request that
// checks a password is listed (POST), never the page that shows the form, so loading the sign-in
// page or a token refresh never counts. Each entry says where it was read; an app whose sign-in
// could not be checked against a source is left out rather than guessed (docs/limits.md lists
// them: Plex and Synology DSM sign in elsewhere or through one multiplexed endpoint, Uptime Kuma
// and TrueNAS over a WebSocket, which the request limit covers instead).
import { normalizedPath } from './request-path.js';

export interface LoginPath {
  method: 'POST';
  /** The path, lower case when `anyCase`. */
  path: string;
  /** The server routes paths case-insensitively (ASP.NET): match in any case. Default: false. */
  anyCase?: boolean;
  /** The app may be served under a base path (/jellyfin/Users/…): match the path's end. Default: false. */
  anyBase?: boolean;
  /** Paths below it count too (/auth/login_flow/{flow_id}). Default: false, the path alone. */
  subpaths?: boolean;
}

export interface AppLogin {
  paths: LoginPath[];
  /** Where the paths were read. */
  source: string;
}

const post = (path: string, options: Omit<LoginPath, 'method' | 'path'> = {}): LoginPath => ({ method: 'POST', path, ...options });

// ASP.NET Core matches routes case-insensitively, and Jellyfin and Emby can run under a base URL.
// Express (Immich) matches in any case by default too. The other apps' routers compare paths
// exactly by default, so their paths stay case-sensitive: aiohttp (Home Assistant), Symfony routing
// (Nextcloud), Django URL patterns (paperless-ngx), Go's net/http (Syncthing), gorilla/mux
// (Portainer, Mattermost), chi (Gitea, Forgejo), Rocket (Vaultwarden). Not checked against a
// source, so listed only as their docs write them: Grafana's pkg/web router, PVE's RESTHandler
// (Proxmox) and Pi-hole's FTL.
const jellyfinStyle = { anyCase: true, anyBase: true } as const;

/** Sign-in paths per preset id. */
export const APP_LOGINS: Readonly<Record<string, AppLogin>> = {
  // Jellyfin.Api/Controllers/UserController.cs: [Route("Users")] … [HttpPost("AuthenticateByName")]
  // (and AuthenticateWithQuickConnect beside it).
  jellyfin: {
    paths: [post('/users/authenticatebyname', jellyfinStyle), post('/users/authenticatewithquickconnect', jellyfinStyle)],
    source: 'https://github.com/jellyfin/jellyfin/blob/master/Jellyfin.Api/Controllers/UserController.cs',
  },
  // Emby's REST API reference: post /Users/AuthenticateByName, reached under /emby/ as well.
  emby: { paths: [post('/users/authenticatebyname', jellyfinStyle)], source: 'https://github.com/MediaBrowser/Emby.SDK/blob/master/Documentation/reference/RestAPI/UserService/postUsersAuthenticatebyname.html' },
  // server/src/controllers/auth.controller.ts: @Controller('auth') … @Post('login'), under the 'api' prefix.
  // NestJS on Express, whose router matches in any case unless `case sensitive routing` is set
  // (expressjs.com/en/api.html#app.settings.table; Immich does not set it): /API/AUTH/LOGIN signs in too.
  immich: { paths: [post('/api/auth/login', { anyCase: true })], source: 'https://github.com/immich-app/immich/blob/main/server/src/controllers/auth.controller.ts' },
  // homeassistant/components/auth/login_flow.py: "POST /auth/login_flow" starts a flow and
  // "POST /auth/login_flow/{flow_id}" submits the user name and password.
  'home-assistant': { paths: [post('/auth/login_flow', { subpaths: true })], source: 'https://github.com/home-assistant/core/blob/dev/homeassistant/components/auth/login_flow.py' },
  // core/routes.php: ['name' => 'login#tryLogin', 'url' => '/login', 'verb' => 'POST'], also
  // reached as /index.php/login when pretty URLs are off. Not the paths below it: the desktop
  // client polls POST /login/v2/poll every few seconds while someone signs in.
  nextcloud: { paths: [post('/login'), post('/index.php/login')], source: 'https://github.com/nextcloud/server/blob/master/core/routes.php' },
  // src/paperless/urls.py: path("token/", views.obtain_auth_token) under ^api/ (the API's password check).
  'paperless-ngx': { paths: [post('/api/token')], source: 'https://github.com/paperless-ngx/paperless-ngx/blob/dev/src/paperless/urls.py' },
  // lib/api/api.go: POST /rest/noauth/auth/password (the GUI's sign-in form).
  syncthing: { paths: [post('/rest/noauth/auth/password')], source: 'https://github.com/syncthing/syncthing/blob/main/lib/api/api.go' },
  // pkg/api/api.go: r.Post("/login", quota(...), routing.Wrap(hs.LoginPost)).
  grafana: { paths: [post('/login')], source: 'https://github.com/grafana/grafana/blob/main/pkg/api/api.go' },
  // Portainer API docs: POST /api/auth with Username and Password returns the JWT.
  portainer: { paths: [post('/api/auth')], source: 'https://github.com/portainer/portainer-docs/blob/2.17/api/examples.md' },
  // PVE API: POST /access/ticket creates a ticket from a password; the GUI calls it through /api2/extjs.
  'proxmox-ve': { paths: [post('/api2/json/access/ticket'), post('/api2/extjs/access/ticket')], source: 'https://pve.proxmox.com/pve-docs/api-viewer/#/access/ticket' },
  // Pi-hole v6: POST /api/auth with the password returns a session id.
  'pi-hole': { paths: [post('/api/auth')], source: 'https://docs.pi-hole.net/api/auth/' },
  // Bitwarden clients (Vaultwarden): POST /identity/connect/token checks the master password hash;
  // POST /api/accounts/prelogin (and /identity/accounts/prelogin in newer clients) comes first and
  // tells whether an account exists.
  vaultwarden: {
    paths: [post('/identity/connect/token'), post('/api/accounts/prelogin'), post('/identity/accounts/prelogin')],
    source: 'https://github.com/dani-garcia/vaultwarden/blob/main/src/api/identity.rs',
  },
  // routers/web/web.go: m.Group("/user", …) { m.Post("/login", web.Bind(forms.SignInForm{}), auth.SignInPost) }.
  gitea: { paths: [post('/user/login')], source: 'https://github.com/go-gitea/gitea/blob/main/routers/web/web.go' },
  // Forgejo is a Gitea fork and keeps the same route (routers/web/web.go).
  forgejo: { paths: [post('/user/login')], source: 'https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/web/web.go' },
  // API v4: POST /api/v4/users/login (login_id, password).
  mattermost: { paths: [post('/api/v4/users/login')], source: 'https://developers.mattermost.com/api-documentation/#/operations/Login' },
};

/** Tells whether a request is a sign-in attempt on one app. Built once per route. */
export class LoginMatcher {
  constructor(private readonly paths: readonly LoginPath[]) {}

  /** The sign-in path `method` `target` is, or null. Only POSTs are normalized. */
  match(method: string | undefined, target: string): LoginPath | null {
    if (method !== 'POST') return null;
    const path = normalizedPath(target);
    if (path === null) return null;
    for (const entry of this.paths) {
      const candidate = entry.anyCase ? path.toLowerCase() : path;
      if (entry.anyBase ? endsWithPath(candidate, entry.path) : isPath(candidate, entry.path, entry.subpaths === true)) return entry;
    }
    return null;
  }
}

/** `path` is `expected` (a trailing slash allowed), or with `subpaths` continues it with a new segment. */
function isPath(path: string, expected: string, subpaths: boolean): boolean {
  if (!path.startsWith(expected)) return false;
  if (path.length === expected.length) return true;
  if (path.charCodeAt(expected.length) !== 47) return false;
  return subpaths || path.length === expected.length + 1;
}

/** `path` ends with `suffix` (which starts with "/"), allowing a trailing slash. */
function endsWithPath(path: string, suffix: string): boolean {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.endsWith(suffix);
}

/** The matcher for a route's app, or null when the app has no known sign-in path. */
export function loginMatcherFor(app: string | null): LoginMatcher | null {
  const login = app === null ? undefined : APP_LOGINS[app];
  return login ? new LoginMatcher(login.paths) : null;
}
