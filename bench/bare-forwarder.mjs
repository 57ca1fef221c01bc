// The "room" reference: the least a Node proxy can do per request (node:http in, undici Pool out,
// hop-by-hop headers dropped, X-Forwarded-For added, nothing else). What Gatehouse does beyond
// this (routing, logging, limits) is what the gap between the two rows costs. With a TLS port it
// also listens with node:https (HTTP/1.1, Node's TLS defaults) for bench.home.arpa, same handler.
// Usage: node bench/bare-forwarder.mjs LISTEN_PORT UPSTREAM_HOST:PORT [TLS_PORT CERT.pem KEY.pem]
//        (listens on 127.0.0.1)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { Pool } from 'undici';
import { BENCH_HOST, TLS_HOST } from './content.mjs';

const [port, upstream, tlsPort, certPath, keyPath] = process.argv.slice(2);
const pool = new Pool(`http://${upstream}`, { connections: 256 });
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

function forward(req, res) {
  const host = req.headers.host?.replace(/:\d+$/, '');
  if (host !== BENCH_HOST && host !== TLS_HOST) return void res.writeHead(404).end();
  const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress };
  for (const name of HOP_BY_HOP) delete headers[name];
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.request({ method: req.method, path: req.url, headers, body: hasBody ? req : null }).then(
    ({ statusCode, headers: upstreamHeaders, body }) => {
      for (const name of HOP_BY_HOP) delete upstreamHeaders[name];
      res.writeHead(statusCode, upstreamHeaders);
      // pipe, not stream.pipeline: pipeline builds and aborts an AbortController per call,
      // and that costs more than the rest of this forwarder on small responses.
      body.on('error', () => res.destroy());
      res.on('close', () => body.destroy());
      body.pipe(res);
    },
    () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    },
  );
}

const server = createServer(forward);
server.keepAliveTimeout = 75_000;
server.listen(Number(port), '127.0.0.1');
if (tlsPort) {
  const tlsServer = createTlsServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) }, forward);
  tlsServer.keepAliveTimeout = 75_000;
  tlsServer.listen(Number(tlsPort), '127.0.0.1');
}
