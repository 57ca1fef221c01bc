// Reads Nginx Proxy Manager's data folder (what NPM mounts at /data, copied to this machine):
// database.sqlite through sql.js (SQLite compiled to WebAssembly; the file is read into memory and
// never written), and the certificate files beside it.
//
// The tables and columns are those NPM's knex migrations create (NginxProxyManager/nginx-proxy-manager,
// backend/migrations/): 20180618015850_initial.js (proxy_host, redirection_host, dead_host, stream,
// access_list, access_list_auth, certificate, the `is_deleted` and JSON `meta`/`domain_names`
// columns), 20180929054513_websockets.js (allow_websocket_upgrade), 20181019052346_forward_host.js
// (forward_ip renamed forward_host), 20181113041458_http2_support.js, 20181213013211_forward_scheme.js,
// 20190104035154_disabled.js (`enabled`), 20190215115310_customlocations.js (`locations`),
// 20190218060101_hsts.js, 20200410143839/…40_access_list_client(_fix).js (access_list_client,
// satisfy_any), 20201014143841_pass_auth.js, 20210210154702/…03_redirection_scheme/_status_code.js,
// 20210423103500_stream_domain.js (forwarding_host), and the later ones that made ports text.
// Every column is read by name with a default, so an older database (before a column existed) and a
// newer one (with columns this reader does not know) both work. Nothing of NPM's code is used.
//
// Access-list passwords: backend/internal/access-list.js stores access_list_auth.password as the
// user typed it and builds the htpasswd file (data/access/<id>) from it, so a row normally holds the
// password itself; a row whose password is empty (or looks like a hash) is reported as such.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { ApiError } from '../../../shared/api.js';

export interface NpmProxyHost {
  id: number;
  domainNames: string[];
  forwardScheme: string;
  forwardHost: string;
  forwardPort: number | null;
  accessListId: number;
  certificateId: number;
  sslForced: boolean;
  hstsEnabled: boolean;
  hstsSubdomains: boolean;
  blockExploits: boolean;
  cachingEnabled: boolean;
  websocket: boolean;
  advancedConfig: string;
  /** Custom locations: each `{ path, forward_scheme, forward_host, forward_port, advanced_config }`. */
  locations: { path: string; target: string }[];
  enabled: boolean;
}

export interface NpmRedirectionHost {
  id: number;
  domainNames: string[];
  forwardScheme: string;
  forwardDomainName: string;
  forwardHttpCode: number;
  preservePath: boolean;
  certificateId: number;
  sslForced: boolean;
  hstsEnabled: boolean;
  hstsSubdomains: boolean;
  blockExploits: boolean;
  advancedConfig: string;
  enabled: boolean;
}

export interface NpmAccessList {
  id: number;
  name: string;
  satisfyAny: boolean;
  passAuth: boolean;
  clients: { address: string; directive: string }[];
  users: { username: string; password: string }[];
}

export interface NpmCertificate {
  id: number;
  /** 'letsencrypt' or 'other' (uploaded). */
  provider: string;
  niceName: string;
  domainNames: string[];
  expiresOn: string | null;
}

export interface NpmStream {
  id: number;
  incomingPort: number | null;
  forwardingHost: string;
  forwardingPort: number | null;
  tcp: boolean;
  udp: boolean;
  enabled: boolean;
}

export interface NpmData {
  folder: string;
  proxyHosts: NpmProxyHost[];
  redirectionHosts: NpmRedirectionHost[];
  accessLists: NpmAccessList[];
  certificates: NpmCertificate[];
  streams: NpmStream[];
}

/** A certificate's files as NPM keeps them, or null when they were not copied. */
export interface NpmCertificateFiles {
  certificatePem: string;
  privateKeyPem: string;
  /** Where they were found, for the preview's words. */
  dir: string;
}

type Row = Record<string, SqlValue>;

const HOW_TO_COPY =
  'copy NPM\'s data folder to this machine first, for example with "docker cp <npm-container>:/data ./npm-data" ' +
  '(or copy the folder your compose file mounts at /data, such as ./data), and enter that folder';

function folderProblem(message: string): ApiError {
  return new ApiError('invalid_input', `folder: ${message}`, { issues: [{ path: 'folder', message }] });
}

// sql.js (its JavaScript and its WebAssembly) is imported on the first NPM import, not at start:
// only that one API call reads a SQLite file, and loading it costs ~10 MB of resident memory.
let sqlJs: Promise<SqlJsStatic> | null = null;
function loadSqlJs(): Promise<SqlJsStatic> {
  if (!sqlJs) {
    const require = createRequire(import.meta.url);
    const wasm = require.resolve('sql.js/dist/sql-wasm.wasm');
    sqlJs = import('sql.js').then(({ default: initSqlJs }) => initSqlJs({ locateFile: () => wasm }));
    sqlJs.catch(() => (sqlJs = null)); // a failed start is tried again next time
  }
  return sqlJs;
}

/** The folder and its database.sqlite, checked, with errors that say what to copy where. */
export function databasePath(folder: string): string {
  const dir = resolve(folder);
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw folderProblem(`there is no folder ${dir} on this machine: ${HOW_TO_COPY}`);
  }
  const file = stat.isFile() && dir.endsWith('.sqlite') ? dir : join(dir, 'database.sqlite');
  if (!stat.isDirectory() && file === join(dir, 'database.sqlite')) throw folderProblem(`${dir} is a file, not a folder: enter the folder that holds NPM's database.sqlite`);
  if (!existsSync(file)) {
    throw folderProblem(
      `there is no database.sqlite in ${dir}: enter the folder NPM mounts at /data (it holds database.sqlite, custom_ssl, access, nginx). ` +
        'If your NPM stores its data in MySQL/MariaDB (DB_MYSQL_HOST in its compose file), there is no such file, and this import cannot read it.',
    );
  }
  return file;
}

export async function readNpmData(folder: string): Promise<NpmData> {
  const file = databasePath(folder);
  const SQL = await loadSqlJs();
  let db: Database;
  try {
    db = new SQL.Database(readFileSync(file));
  } catch (error) {
    throw folderProblem(`${file} cannot be read as a SQLite database (${(error as Error).message}): copy it again while NPM is stopped`);
  }
  try {
    const tables = new Set(rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'").map((row) => String(row.name)));
    if (!tables.has('proxy_host')) {
      throw folderProblem(`${file} is a SQLite database, but not Nginx Proxy Manager's: it has no proxy_host table`);
    }
    const live = (table: string) => (tables.has(table) ? rows(db, `SELECT * FROM "${table}"`).filter((row) => int(row, 'is_deleted', 0) === 0) : []);
    const all = (table: string) => (tables.has(table) ? rows(db, `SELECT * FROM "${table}"`) : []);
    const clients = all('access_list_client');
    const auths = all('access_list_auth');
    return {
      folder: dirname(file),
      proxyHosts: live('proxy_host').map(proxyHost),
      redirectionHosts: live('redirection_host').map(redirectionHost),
      accessLists: live('access_list').map((row) => accessList(row, clients, auths)),
      certificates: live('certificate').map(certificate),
      streams: live('stream').map(stream),
    };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw folderProblem(`${file} could not be read (${(error as Error).message}): copy it again while NPM is stopped`);
  } finally {
    db.close();
  }
}

/** The certificate's fullchain.pem and privkey.pem, where NPM keeps them, or null when not copied. */
export function certificateFiles(folder: string, cert: NpmCertificate): NpmCertificateFiles | null {
  const dirs =
    cert.provider === 'letsencrypt'
      ? // NPM's certbot writes to /etc/letsencrypt, a volume of its own that users copy beside /data (or into it).
        [join(folder, 'letsencrypt'), join(folder, '..', 'letsencrypt'), join(folder, 'etc', 'letsencrypt')].map((base) => join(base, 'live', `npm-${cert.id}`))
      : [join(folder, 'custom_ssl', `npm-${cert.id}`)];
  for (const dir of dirs) {
    try {
      const certificatePem = readFileSync(join(dir, 'fullchain.pem'), 'utf8');
      const privateKeyPem = readFileSync(join(dir, 'privkey.pem'), 'utf8');
      return { certificatePem, privateKeyPem, dir: resolve(dir) };
    } catch {
      // Not here (or a live/ link whose archive/ was not copied): try the next place.
    }
  }
  return null;
}

function rows(db: Database, sql: string): Row[] {
  const out: Row[] = [];
  const statement = db.prepare(sql);
  try {
    while (statement.step()) out.push(statement.getAsObject());
  } finally {
    statement.free();
  }
  return out;
}

function int(row: Row, column: string, fallback: number): number {
  const value = row[column];
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return fallback;
}
function optionalPort(row: Row, column: string): number | null {
  const port = int(row, column, -1);
  return port >= 1 && port <= 65535 ? port : null;
}
function bool(row: Row, column: string, fallback: boolean): boolean {
  const value = row[column];
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'string') return value === '1' || value.toLowerCase() === 'true';
  return Number(value) !== 0;
}
function text(row: Row, column: string, fallback = ''): string {
  const value = row[column];
  return value === null || value === undefined || value instanceof Uint8Array ? fallback : String(value);
}
function json(row: Row, column: string): unknown {
  try {
    return JSON.parse(text(row, column, 'null')) as unknown;
  } catch {
    return null;
  }
}
function names(row: Row): string[] {
  const value = json(row, 'domain_names');
  return Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string').map((name) => name.trim().toLowerCase()).filter(Boolean) : [];
}

function proxyHost(row: Row): NpmProxyHost {
  const locations = json(row, 'locations');
  return {
    id: int(row, 'id', 0),
    domainNames: names(row),
    forwardScheme: text(row, 'forward_scheme', 'http') || 'http',
    // forward_ip before 20181019052346_forward_host.js renamed it.
    forwardHost: text(row, 'forward_host', text(row, 'forward_ip')).trim(),
    forwardPort: optionalPort(row, 'forward_port'),
    accessListId: int(row, 'access_list_id', 0),
    certificateId: int(row, 'certificate_id', 0),
    sslForced: bool(row, 'ssl_forced', false),
    hstsEnabled: bool(row, 'hsts_enabled', false),
    hstsSubdomains: bool(row, 'hsts_subdomains', false),
    blockExploits: bool(row, 'block_exploits', false),
    cachingEnabled: bool(row, 'caching_enabled', false),
    websocket: bool(row, 'allow_websocket_upgrade', false),
    advancedConfig: text(row, 'advanced_config').trim(),
    locations: Array.isArray(locations)
      ? locations.filter((l): l is Record<string, unknown> => typeof l === 'object' && l !== null).map((l) => ({
          path: String(l.path ?? ''),
          target: `${String(l.forward_scheme ?? 'http')}://${String(l.forward_host ?? '')}${l.forward_port ? `:${String(l.forward_port)}` : ''}`,
        }))
      : [],
    enabled: bool(row, 'enabled', true),
  };
}

function redirectionHost(row: Row): NpmRedirectionHost {
  return {
    id: int(row, 'id', 0),
    domainNames: names(row),
    forwardScheme: text(row, 'forward_scheme', '$scheme') || '$scheme',
    forwardDomainName: text(row, 'forward_domain_name').trim(),
    forwardHttpCode: int(row, 'forward_http_code', 302),
    preservePath: bool(row, 'preserve_path', false),
    certificateId: int(row, 'certificate_id', 0),
    sslForced: bool(row, 'ssl_forced', false),
    hstsEnabled: bool(row, 'hsts_enabled', false),
    hstsSubdomains: bool(row, 'hsts_subdomains', false),
    blockExploits: bool(row, 'block_exploits', false),
    advancedConfig: text(row, 'advanced_config').trim(),
    enabled: bool(row, 'enabled', true),
  };
}

function accessList(row: Row, clients: Row[], auths: Row[]): NpmAccessList {
  const id = int(row, 'id', 0);
  return {
    id,
    name: text(row, 'name').trim() || `Access list ${id}`,
    satisfyAny: bool(row, 'satisfy_any', false),
    passAuth: bool(row, 'pass_auth', true),
    clients: clients
      .filter((client) => int(client, 'access_list_id', -1) === id)
      .sort((a, b) => int(a, 'id', 0) - int(b, 'id', 0))
      .map((client) => ({ address: text(client, 'address').trim(), directive: text(client, 'directive').trim().toLowerCase() })),
    users: auths
      .filter((auth) => int(auth, 'access_list_id', -1) === id)
      .sort((a, b) => int(a, 'id', 0) - int(b, 'id', 0))
      .map((auth) => ({ username: text(auth, 'username').trim(), password: text(auth, 'password') })),
  };
}

function certificate(row: Row): NpmCertificate {
  const expires = text(row, 'expires_on').trim();
  return {
    id: int(row, 'id', 0),
    provider: text(row, 'provider', 'other') || 'other',
    niceName: text(row, 'nice_name').trim(),
    domainNames: names(row),
    expiresOn: expires || null,
  };
}

function stream(row: Row): NpmStream {
  return {
    id: int(row, 'id', 0),
    incomingPort: optionalPort(row, 'incoming_port'),
    // forward_ip before 20210423103500_stream_domain.js renamed it.
    forwardingHost: text(row, 'forwarding_host', text(row, 'forward_ip')).trim(),
    forwardingPort: optionalPort(row, 'forwarding_port'),
    tcp: bool(row, 'tcp_forwarding', false),
    udp: bool(row, 'udp_forwarding', false),
    enabled: bool(row, 'enabled', true),
  };
}
