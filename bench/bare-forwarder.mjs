// The "room" reference: the least a Node proxy can do per request (node:http in, undici Pool out,
// hop-by-hop headers dropped, X-Forwarded-For added, nothing else). What Gatehouse does beyond
// this (routing, logging, limits) is what the gap between the two rows costs.
// Usage: node bench/bare-forwarder.mjs LISTEN_PORT UPSTREAM_HOST:PORT   (listens on 127.0.0.1)
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { BENCH_HOST } from './content.mjs';

const [port, upstream] = process.argv.slice(2);
const pool = new Pool(`http://${upstream}`, { connections: 256 });
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

const server = createServer((req, res) => {
  if (req.headers.host?.replace(/:\d+$/, '') !== BENCH_HOST) return void res.writeHead(404).end();
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
});
server.keepAliveTimeout = 75_000;
server.listen(Number(port), '127.0.0.1');
