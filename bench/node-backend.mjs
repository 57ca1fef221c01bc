// The backend when nginx is not installed: the same three paths as the nginx backend.
// Usage: node bench/node-backend.mjs PORT   (listens on 127.0.0.1)
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { ONE_GIB, ONE_GIB_PATH, ONE_MIB, ONE_MIB_PATH, SMALL_BODY } from './content.mjs';

const oneMiB = randomBytes(ONE_MIB);
const small = Buffer.from(SMALL_BODY);

const server = createServer((req, res) => {
  if (req.url === ONE_MIB_PATH) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': ONE_MIB });
    res.end(oneMiB);
  } else if (req.url === ONE_GIB_PATH) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': ONE_GIB });
    let left = ONE_GIB / ONE_MIB;
    const pump = () => {
      while (left > 0) {
        left--;
        if (left === 0) return void res.end(oneMiB);
        if (!res.write(oneMiB)) return void res.once('drain', pump);
      }
    };
    pump();
  } else {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': small.length });
    res.end(small);
  }
});
server.keepAliveTimeout = 75_000;
server.listen(Number(process.argv[2]), '127.0.0.1');
