// The HTTP-01 rehearsal: a probe token is served the way an order's would be, and fetched from the
// address public DNS gave, with the name in Host, as the CA will. Only this machine is involved: the
// request goes out to its own public address (hairpin NAT on most routers) and must come back to
// Gatehouse's HTTP listener.
import { request } from 'node:http';
import { isIP } from 'node:net';

export type ProbeResult =
  | { kind: 'answered'; ok: boolean; status: number; server: string | null; bodyStart: string }
  | { kind: 'refused' }
  | { kind: 'timeout' }
  | { kind: 'error'; code: string; message: string };

/** GET http://<address>:<port>/.well-known/acme-challenge/<token> with Host: <name>; never throws. */
export function probeHttp(address: string, port: number, name: string, token: string, expected: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const host = isIP(address) === 6 ? `[${address}]` : address;
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request({ host: address, port, path: `/.well-known/acme-challenge/${token}`, method: 'GET', headers: { host: port === 80 ? name : `${name}:${port}`, 'user-agent': 'Gatehouse pre-flight', connection: 'close' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        // A key authorization is ~90 bytes; a big page is not it, and only its start is shown.
        if (size < 4096) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const server = typeof res.headers.server === 'string' ? res.headers.server : null;
        done({ kind: 'answered', ok: res.statusCode === 200 && body.trim() === expected, status: res.statusCode ?? 0, server, bodyStart: body.slice(0, 200) });
      });
      res.on('error', (error: NodeJS.ErrnoException) => done({ kind: 'error', code: error.code ?? 'ERROR', message: error.message }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ kind: 'timeout' });
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done({ kind: 'refused' });
      else if (error.code === 'ETIMEDOUT') done({ kind: 'timeout' });
      else done({ kind: 'error', code: error.code ?? 'ERROR', message: `${error.message} (http://${host}:${port})` });
    });
    req.end();
  });
}
