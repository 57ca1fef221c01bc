// Builds an Nginx Proxy Manager data folder the way NPM leaves it: database.sqlite with NPM's
// published schema, plus custom_ssl/npm-<id>/ certificate files. Written with sql.js.
//
// The CREATE TABLE statements are the tables as NPM's knex migrations leave them on SQLite
// (NginxProxyManager/nginx-proxy-manager, backend/migrations/), with knex's SQLite types
// (increments → integer primary key autoincrement, string → varchar(255), dateTime → datetime,
// json → json, defaultTo(n) → default 'n'):
//   20180618015850_initial.js            every table below, the is_deleted/meta/domain_names columns
//   20180929054513_websockets.js         proxy_host.allow_websocket_upgrade
//   20181019052346_forward_host.js       proxy_host.forward_ip renamed forward_host
//   20181113041458_http2_support.js      http2_support on proxy_host, redirection_host, dead_host
//   20181213013211_forward_scheme.js     proxy_host.forward_scheme (default 'http')
//   20190104035154_disabled.js           enabled on proxy_host, redirection_host, dead_host, stream
//   20190215115310_customlocations.js    proxy_host.locations (json, nullable)
//   20190218060101_hsts.js               hsts_enabled, hsts_subdomains
//   20200410143839_access_list_client.js access_list_client; access_list.satify_any …
//   20200410143840_access_list_client_fix.js … renamed satisfy_any
//   20201014143841_pass_auth.js          access_list.pass_auth (default 1)
//   20210210154702_redirection_scheme.js redirection_host.forward_scheme (default '$scheme')
//   20210210154703_redirection_status_code.js redirection_host.forward_http_code (default 302)
//   20210423103500_stream_domain.js      stream.forward_ip renamed forwarding_host
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import initSqlJs, { type Database, type SqlValue } from 'sql.js';

export const NPM_SCHEMA = [
  `CREATE TABLE \`auth\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`user_id\` integer not null, \`type\` varchar(30) not null, \`secret\` varchar(255) not null, \`meta\` json not null, \`is_deleted\` integer not null default '0')`,
  `CREATE TABLE \`user\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`is_deleted\` integer not null default '0', \`is_disabled\` integer not null default '0', \`email\` varchar(255) not null, \`name\` varchar(255) not null, \`nickname\` varchar(255) not null, \`avatar\` varchar(255) not null, \`roles\` json not null)`,
  `CREATE TABLE \`proxy_host\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`owner_user_id\` integer not null, \`is_deleted\` integer not null default '0', \`domain_names\` json not null, \`forward_host\` varchar(255) not null, \`forward_port\` integer not null, \`access_list_id\` integer not null default '0', \`certificate_id\` integer not null default '0', \`ssl_forced\` integer not null default '0', \`caching_enabled\` integer not null default '0', \`block_exploits\` integer not null default '0', \`advanced_config\` text not null default '', \`meta\` json not null, \`allow_websocket_upgrade\` integer not null default '0', \`http2_support\` integer not null default '0', \`forward_scheme\` varchar(255) not null default 'http', \`enabled\` integer not null default '1', \`locations\` json, \`hsts_enabled\` integer not null default '0', \`hsts_subdomains\` integer not null default '0')`,
  `CREATE TABLE \`redirection_host\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`owner_user_id\` integer not null, \`is_deleted\` integer not null default '0', \`domain_names\` json not null, \`forward_domain_name\` varchar(255) not null, \`preserve_path\` integer not null default '0', \`certificate_id\` integer not null default '0', \`ssl_forced\` integer not null default '0', \`block_exploits\` integer not null default '0', \`advanced_config\` text not null default '', \`meta\` json not null, \`http2_support\` integer not null default '0', \`enabled\` integer not null default '1', \`hsts_enabled\` integer not null default '0', \`hsts_subdomains\` integer not null default '0', \`forward_scheme\` varchar(255) not null default '$scheme', \`forward_http_code\` integer not null default '302')`,
  `CREATE TABLE \`dead_host\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`owner_user_id\` integer not null, \`is_deleted\` integer not null default '0', \`domain_names\` json not null, \`certificate_id\` integer not null default '0', \`ssl_forced\` integer not null default '0', \`advanced_config\` text not null default '', \`meta\` json not null, \`http2_support\` integer not null default '0', \`enabled\` integer not null default '1', \`hsts_enabled\` integer not null default '0', \`hsts_subdomains\` integer not null default '0')`,
  `CREATE TABLE \`stream\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`owner_user_id\` integer not null, \`is_deleted\` integer not null default '0', \`incoming_port\` integer not null, \`forwarding_host\` varchar(255) not null, \`forwarding_port\` integer not null, \`tcp_forwarding\` integer not null default '0', \`udp_forwarding\` integer not null default '0', \`meta\` json not null, \`enabled\` integer not null default '1')`,
  `CREATE TABLE \`access_list\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`owner_user_id\` integer not null, \`is_deleted\` integer not null default '0', \`name\` varchar(255) not null, \`meta\` json not null, \`satisfy_any\` integer not null default '0', \`pass_auth\` integer not null default '1')`,
  `CREATE TABLE \`certificate\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`owner_user_id\` integer not null, \`is_deleted\` integer not null default '0', \`provider\` varchar(255) not null, \`nice_name\` varchar(255) not null default '', \`domain_names\` json not null, \`expires_on\` datetime not null, \`meta\` json not null)`,
  `CREATE TABLE \`access_list_auth\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`access_list_id\` integer not null, \`username\` varchar(255) not null, \`password\` varchar(255) not null, \`meta\` json not null)`,
  `CREATE TABLE \`access_list_client\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`access_list_id\` integer not null, \`address\` varchar(255) not null, \`directive\` varchar(255) not null, \`meta\` json not null)`,
  `CREATE TABLE \`audit_log\` (\`id\` integer not null primary key autoincrement, \`created_on\` datetime not null, \`modified_on\` datetime not null, \`user_id\` integer not null, \`object_type\` varchar(255) not null default '', \`object_id\` integer not null default '0', \`action\` varchar(255) not null, \`meta\` json not null)`,
];

/**
 * Columns later NPM releases added (20230811144605_forward_path.js, 20241209025008_client_max_body_size.js,
 * 20260131163528_trust_forwarded_proto.js…), which the import does not know: their presence must not matter.
 */
export const NEWER_COLUMNS = [
  "ALTER TABLE `proxy_host` ADD COLUMN `forward_path` varchar(255) not null default ''",
  "ALTER TABLE `proxy_host` ADD COLUMN `trust_forwarded_proto` integer not null default '0'",
  "ALTER TABLE `access_list_client` ADD COLUMN `note` varchar(255) not null default ''",
];

export type NpmRow = Record<string, SqlValue>;

export interface NpmDatabase {
  db: Database;
  insert(table: string, row: NpmRow): void;
  /** Writes database.sqlite into `folder` and closes the database. */
  save(folder: string): Promise<void>;
}

const NOW = '2026-01-01 10:00:00';
const DEFAULTS: Record<string, NpmRow> = {
  proxy_host: { owner_user_id: 1, meta: '{}', advanced_config: '' },
  redirection_host: { owner_user_id: 1, meta: '{}', advanced_config: '' },
  stream: { owner_user_id: 1, meta: '{}' },
  access_list: { owner_user_id: 1, meta: '{}' },
  certificate: { owner_user_id: 1, meta: '{}' },
  access_list_auth: { meta: '{}' },
  access_list_client: { meta: '{}' },
};

export async function openSqlJs(): Promise<initSqlJs.SqlJsStatic> {
  const require = createRequire(import.meta.url);
  const wasm = require.resolve('sql.js/dist/sql-wasm.wasm');
  return initSqlJs({ locateFile: () => wasm });
}

export async function createNpmDatabase(options: { newerColumns?: boolean } = {}): Promise<NpmDatabase> {
  const SQL = await openSqlJs();
  const db = new SQL.Database();
  for (const statement of NPM_SCHEMA) db.run(statement);
  if (options.newerColumns) for (const statement of NEWER_COLUMNS) db.run(statement);
  return {
    db,
    insert(table, row) {
      const full: NpmRow = { created_on: NOW, modified_on: NOW, ...DEFAULTS[table], ...row };
      const columns = Object.keys(full);
      db.run(`INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, columns.map((c) => full[c]!));
    },
    async save(folder) {
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, 'database.sqlite'), db.export());
      db.close();
    },
  };
}

/** NPM's custom_ssl/npm-<id>/ (or letsencrypt/live/npm-<id>/) files. */
export async function writeNpmCertificate(dir: string, fullchainPem: string, privkeyPem: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'fullchain.pem'), fullchainPem);
  await writeFile(join(dir, 'privkey.pem'), privkeyPem);
}
