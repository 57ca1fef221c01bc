// A small-response backend listening on several ports in one process (one CPU's worth of work
// whichever port is asked), so a route with three upstreams and a route with one are compared on
// the same backend capacity. Prints "ready" once every port listens.
// Usage: node bench/multi-backend.mjs PORT [PORT ...]   (listens on 127.0.0.1)
import { createServer } from 'node:http';
import { SMALL_BODY } from './content.mjs';

const small = Buffer.from(SMALL_BODY);
const ports = process.argv.slice(2).map(Number);
let listening = 0;
for (const port of ports) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': small.length, 'x-port': String(port) });
    res.end(small);
  });
  server.keepAliveTimeout = 75_000;
  server.listen(port, '127.0.0.1', () => {
    if (++listening === ports.length) console.log('ready');
  });
}
