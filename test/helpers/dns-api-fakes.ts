// Local servers that follow the documented APIs of DNS providers Gatehouse cannot reach from the
// tests: Cloudflare's API v4 (the { success, errors, messages, result } envelope, Bearer tokens,
// 403 with error code 9109 "Invalid access token" or 10000 "Authentication error"), acme-dns's
// POST /update (X-Api-User / X-Api-Key; 401 {"error":"forbidden"}, 400 {"error":"bad_txt"}) and
// DuckDNS's GET /update (plain "OK" / "KO"). Each keeps what it was told, for the test to check.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface FakeServer {
  url: string;
  /** Every request line seen ("GET /zones?name=example.com"), to show nothing else was asked. */
  requests: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

// ---------------------------------------------------------------------------------------------

export interface CloudflareRecord {
  id: string;
  zoneId: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
}

export interface FakeCloudflare extends FakeServer {
  records: CloudflareRecord[];
}

/**
 * `tokens`: token → what it may do ("edit": Zone.DNS edit + Zone read; "read": Zone read only).
 * Zones not listed for a token are invisible to it, as Cloudflare's GET /zones does.
 */
export async function startFakeCloudflare(options: { zones: string[]; tokens: Record<string, 'edit' | 'read'> }): Promise<FakeCloudflare> {
  const zones = options.zones.map((name) => ({ id: randomUUID().replace(/-/g, ''), name }));
  const records: CloudflareRecord[] = [];
  const requests: string[] = [];
  const envelope = (result: unknown) => ({ success: true, errors: [], messages: [], result });
  const failure = (code: number, message: string) => ({ success: false, errors: [{ code, message }], messages: [], result: null });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/client\/v4/, '');
    requests.push(`${req.method} ${path}${url.search}`);
    const text = await body(req);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = token ? options.tokens[token] : undefined;
    if (!grant) return json(res, 403, failure(9109, 'Invalid access token'));
    if (req.method === 'GET' && path === '/zones') {
      const name = url.searchParams.get('name');
      return json(res, 200, { ...envelope(zones.filter((zone) => !name || zone.name === name)), result_info: { page: 1, per_page: 20, count: 1, total_count: 1 } });
    }
    const match = /^\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(path);
    const zone = match && zones.find((candidate) => candidate.id === match[1]);
    if (!match || !zone) return json(res, 404, failure(7003, 'Could not route to /zones, perhaps your object identifier is invalid?'));
    if (req.method === 'GET' && !match[2]) {
      const filters = ['type', 'name', 'content'].map((key) => [key, url.searchParams.get(key)] as const);
      return json(res, 200, envelope(records.filter((record) => record.zoneId === zone.id && filters.every(([key, value]) => value === null || record[key as 'type'] === value))));
    }
    if (grant !== 'edit') return json(res, 403, failure(10000, 'Authentication error'));
    if (req.method === 'POST' && !match[2]) {
      const input = JSON.parse(text) as { type: string; name: string; content: string; ttl: number };
      if (records.some((record) => record.zoneId === zone.id && record.type === input.type && record.name === input.name && record.content === input.content)) {
        return json(res, 400, failure(81058, 'An identical record already exists.'));
      }
      const record = { id: randomUUID().replace(/-/g, ''), zoneId: zone.id, type: input.type, name: input.name, content: input.content, ttl: input.ttl };
      records.push(record);
      return json(res, 200, envelope(record));
    }
    if (req.method === 'DELETE' && match[2]) {
      const index = records.findIndex((record) => record.id === match[2]);
      if (index < 0) return json(res, 404, failure(81044, 'Record does not exist.'));
      records.splice(index, 1);
      return json(res, 200, envelope({ id: match[2] }));
    }
    return json(res, 405, failure(10405, 'Method not allowed'));
  });
  const base = await listen(server);
  return { url: `${base}/client/v4`, records, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// ---------------------------------------------------------------------------------------------

export interface FakeAcmeDns extends FakeServer {
  /** The two latest values per subdomain, as acme-dns keeps them. */
  txt: Map<string, string[]>;
}

/** One registration; `onUpdate` lets a test publish the values in a real DNS server, as acme-dns does. */
export async function startFakeAcmeDns(account: { username: string; password: string; subdomain: string }, onUpdate?: (subdomain: string, values: string[]) => Promise<void>): Promise<FakeAcmeDns> {
  const txt = new Map<string, string[]>();
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const text = await body(req);
    if (req.method !== 'POST' || req.url !== '/update') return json(res, 404, { error: 'not_found' });
    if (req.headers['x-api-user'] !== account.username || req.headers['x-api-key'] !== account.password) return json(res, 401, { error: 'forbidden' });
    let input: { subdomain?: string; txt?: string };
    try {
      input = JSON.parse(text) as typeof input;
    } catch {
      return json(res, 400, { error: 'malformed_json_payload' });
    }
    if (input.subdomain !== account.subdomain) return json(res, 401, { error: 'forbidden' });
    if (typeof input.txt !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(input.txt)) return json(res, 400, { error: 'bad_txt' });
    const values = [input.txt, ...(txt.get(input.subdomain) ?? [])].slice(0, 2);
    txt.set(input.subdomain, values);
    await onUpdate?.(input.subdomain, values);
    return json(res, 200, { txt: input.txt });
  });
  const url = await listen(server);
  return { url, txt, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// ---------------------------------------------------------------------------------------------

export interface FakeDuckDns extends FakeServer {
  /** The TXT value per subdomain ("" when cleared). */
  txt: Map<string, string>;
}

export async function startFakeDuckDns(account: { token: string; domains: string[] }): Promise<FakeDuckDns> {
  const txt = new Map<string, string>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const plain = (text: string) => res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
    if (url.pathname !== '/update') return plain('KO');
    const domains = (url.searchParams.get('domains') ?? '').split(',');
    if (url.searchParams.get('token') !== account.token || !domains.every((domain) => account.domains.includes(domain))) return plain('KO');
    for (const domain of domains) txt.set(domain, url.searchParams.get('clear') === 'true' ? '' : (url.searchParams.get('txt') ?? ''));
    return plain('OK');
  });
  return listen(server).then((url) => ({ url, txt, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }));
}
