// The backend and the peer proxies, each configured by a file generated into its own directory
// of the run's temp dir, bound to 127.0.0.1 on a free port, in the foreground, pinned to the
// servers' CPU. Each proxy routes Host: bench.test to the backend, and, on a second port with the
// bench certificate (bench/tls.mjs), Host and SNI bench.home.arpa over HTTPS (HTTP/2 by ALPN where
// the server offers it), in the same process: one process per proxy, as Gatehouse runs.
import { chmodSync, closeSync, mkdirSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_HOST, ONE_GIB, ONE_MIB, SMALL_BODY, TLS_HOST } from './content.mjs';
import { Processes, freePort, waitForHttp } from './processes.mjs';

const NODE_BACKEND = fileURLToPath(new URL('./node-backend.mjs', import.meta.url));
const BARE_FORWARDER = fileURLToPath(new URL('./bare-forwarder.mjs', import.meta.url));

/**
 * Directory for one server's files. World-readable: nginx's workers drop root for `nobody` and
 * must still read the backend's files.
 */
export function serverDir(tmp, name) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return dir;
}

/** Starts a server and waits until it serves `path` for bench.test; on failure the error quotes its log. */
async function startAndWait(ctx, name, command, args, { dir, env, path = '/', check } = {}) {
  const logPath = join(dir, 'output.log');
  const child = ctx.processes.start(name, command, args, { cpu: ctx.serverCpu, logPath, env, cwd: dir });
  try {
    await waitForHttp(ctx.port, path, { child, check });
  } catch (error) {
    throw new Error(`${name} did not start: ${error.message}\n${Processes.logTail(logPath)}`);
  }
  return child;
}

/**
 * Paths every nginx instance is told about, so nothing touches /var/lib/nginx or /var/log/nginx.
 * One worker in the one-core layout; `worker_processes auto` (one per CPU, as Debian ships it) when
 * `ctx.stock` says the servers may use every core.
 */
function nginxCommon(dir, ctx) {
  return `daemon off;
master_process on;
worker_processes ${ctx.stock ? 'auto' : '1'};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
`;
}

function nginxTempPaths(dir) {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/${kind}_temp;`).join('\n');
}

function nginxArgs(dir) {
  return ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
}

/**
 * The backend: nginx (a `return 200` small body and static 1 MiB / sparse 1 GiB files) when it is
 * installed, as it costs the shared core least; otherwise bench/node-backend.mjs. It answers on two
 * ports, `port` and `port2` (the same server: a route with two upstreams uses both).
 * Returns {kind, port, port2, pid, pids}.
 */
export async function startBackend(ctx) {
  const dir = serverDir(ctx.tmp, 'backend');
  const port = await freePort();
  const port2 = await freePort();
  const here = { ...ctx, port };
  if (!ctx.tools.nginx) {
    const child = await startAndWait(here, 'backend (node)', process.execPath, [NODE_BACKEND, String(port)], { dir });
    const second = await startAndWait({ ...ctx, port: port2 }, 'backend (node, second port)', process.execPath, [NODE_BACKEND, String(port2)], { dir });
    return { kind: 'node', port, port2, pid: child.pid, pids: [child.pid, second.pid] };
  }
  const files = serverDir(dir, 'files');
  writeFileSync(join(files, '1m'), randomBytes(ONE_MIB), { mode: 0o644 });
  const fd = openSync(join(files, '1g'), 'w', 0o644); // sparse: 1 GiB of zeros, no disk used
  ftruncateSync(fd, ONE_GIB);
  closeSync(fd);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${nginxCommon(dir, ctx)}
http {
  access_log off;
${nginxTempPaths(dir)}
  sendfile on;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${port2};
    location /files/ { root ${dir}; default_type application/octet-stream; }
    location / { default_type text/plain; return 200 "${SMALL_BODY.replace('\n', '\\n')}"; }
  }
}
`,
  );
  const child = await startAndWait(here, 'backend (nginx)', ctx.tools.nginx, nginxArgs(dir), { dir });
  return { kind: 'nginx', port, port2, pid: child.pid, pids: [child.pid] };
}

/**
 * nginx as Nginx Proxy Manager generates it: a plain `proxy_pass` (HTTP/1.0 to the upstream, a new
 * connection per request, no `upstream { keepalive }`), NPM's forwarding headers, and nginx's
 * default access log on (combined format, to a file). HTTPS: stock `listen … ssl http2` with the
 * certificate and nginx's TLS defaults (no session cache; tickets on), except ssl_protocols: 1.22's
 * default stops at TLS 1.2, and nginx ≥ 1.23.4's (TLSv1.2 TLSv1.3) is what a current install gets;
 * and keepalive_requests, for h2load (see the config).
 */
async function startNginx(ctx) {
  const dir = ctx.dir;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${nginxCommon(dir, ctx)}
http {
  access_log ${dir}/access.log;
${nginxTempPaths(dir)}
  server {
    listen 127.0.0.1:${ctx.port};
    server_name ${BENCH_HOST};
${nginxProxyLocation(ctx)}
  }
  server {
    listen 127.0.0.1:${ctx.tlsPort} ssl http2;
    server_name ${TLS_HOST};
    ssl_protocols TLSv1.2 TLSv1.3;
    # h2load does not reconnect after a GOAWAY, so nginx's stock limit of 1000 requests per
    # connection would stop each h2load client after 1000 requests and leave the run mostly idle.
    keepalive_requests 100000000;
    ssl_certificate ${ctx.cert.cert};
    ssl_certificate_key ${ctx.cert.key};
${nginxProxyLocation(ctx)}
  }
}
`,
  );
  return startAndWait(ctx, 'nginx', ctx.tools.nginx, nginxArgs(dir), { dir });
}

/** NPM's location block: its forwarding headers and a plain proxy_pass. */
function nginxProxyLocation(ctx) {
  return `    location / {
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_pass http://127.0.0.1:${ctx.backendPort};
    }`;
}

/**
 * Caddy's `reverse_proxy` with its defaults (upstream keep-alive, no access log unless asked;
 * GOMAXPROCS left to Go, so one thread runs Go code per CPU it may use: one when pinned to one);
 * HTTPS with the given certificate (`auto_https off` only stops it fetching its own), its TLS and
 * ALPN defaults (h2, http/1.1).
 */
async function startCaddy(ctx) {
  const dir = ctx.dir;
  writeFileSync(
    join(dir, 'Caddyfile'),
    `{
	admin off
	auto_https off
	http_port ${ctx.port}
}
http://${BENCH_HOST}:${ctx.port} {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:${ctx.backendPort}
}
https://${TLS_HOST}:${ctx.tlsPort} {
	bind 127.0.0.1
	tls ${ctx.cert.cert} ${ctx.cert.key}
	reverse_proxy 127.0.0.1:${ctx.backendPort}
}
`,
  );
  // Caddy keeps state under $HOME / XDG dirs: keep it inside the temp dir.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  return startAndWait(ctx, 'caddy', ctx.tools.caddy, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { dir, env });
}

/**
 * HAProxy in HTTP mode with keep-alive both ways, routing on the Host header; no logging. One
 * thread in the one-core layout; with `ctx.stock`, no nbthread (HAProxy then starts one thread per
 * CPU it may run on, as a stock install does). HTTPS:
 * `bind … ssl` with the certificate and its TLS defaults; `alpn h2,http/1.1` because HAProxy 2.6
 * offers no ALPN (so no HTTP/2) unless told.
 */
async function startHaproxy(ctx) {
  const dir = ctx.dir;
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global
${ctx.stock ? '' : '  nbthread 1\n'}  maxconn 4096

defaults
  mode http
  option http-keep-alive
  option forwardfor
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 75s

frontend bench
  bind 127.0.0.1:${ctx.port}
  acl bench_host hdr(host) -i ${BENCH_HOST}
  use_backend app if bench_host

frontend bench_tls
  bind 127.0.0.1:${ctx.tlsPort} ssl crt ${ctx.cert.combined} alpn h2,http/1.1
  # host_only: HTTP/2 clients send :authority with the port (h2load does), wrk sends Host without
  acl tls_host req.hdr(host),host_only -i ${TLS_HOST}
  use_backend app if tls_host

backend app
  server app1 127.0.0.1:${ctx.backendPort}
`,
  );
  return startAndWait(ctx, 'haproxy', ctx.tools.haproxy, ['-db', '-f', join(dir, 'haproxy.cfg')], { dir });
}

async function startBare(ctx) {
  const args = [BARE_FORWARDER, String(ctx.port), `127.0.0.1:${ctx.backendPort}`, String(ctx.tlsPort), ctx.cert.cert, ctx.cert.key];
  return startAndWait(ctx, 'bare forwarder', process.execPath, args, {
    dir: ctx.dir,
  });
}

/**
 * The peers, in table order after Gatehouse. `tool`: the program that must be installed (and the
 * Debian package that has it), or null when only Node is needed.
 */
export const PEERS = [
  { id: 'bare', label: 'bare node:http+undici', tool: null, start: startBare, h2: false },
  { id: 'nginx', label: 'nginx stock proxy_pass', tool: ['nginx', 'nginx'], start: startNginx, h2: true },
  { id: 'caddy', label: 'Caddy', tool: ['caddy', 'caddy'], start: startCaddy, h2: true },
  { id: 'haproxy', label: 'HAProxy', tool: ['haproxy', 'haproxy'], start: startHaproxy, h2: true },
];

/**
 * Starts a peer on two free ports, HTTP and HTTPS (`ctx.cert` from makeBenchCertificate):
 * returns {port, tlsPort, h2, pid, child}; `h2` says whether it is measured over HTTP/2.
 */
export async function startPeer(peer, ctx) {
  const port = await freePort();
  const tlsPort = await freePort();
  const dir = serverDir(ctx.tmp, peer.id);
  const child = await peer.start({ ...ctx, port, tlsPort, dir });
  return { port, tlsPort, h2: peer.h2, pid: child.pid, child };
}
