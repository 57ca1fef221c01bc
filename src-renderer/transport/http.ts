// The API over HTTP, for the renderer served by `gatehouse serve`: each member is a request as
// `endpoints` describes it, events arrive over SSE. Every browser global it uses is passed in, so
// the request building and the event stream run (and are tested) under plain Node too.
import {
  ApiError,
  apiEventNames,
  endpoints,
  isApiMember,
  type ApiEvent,
  type ApiEventName,
  type ApiMember,
  type ApiTransport,
} from '../../shared/api.js';
import { readEventStream, type SseMessage } from './sse.js';

/** Where the admin token is kept for this tab: it survives reloads, not the tab. */
export const TOKEN_STORAGE_KEY = 'gatehouse.adminToken';

export interface HttpRequest {
  url: string;
  init: { method: string; headers: Record<string, string>; body?: string };
}

export interface RequestContext {
  /** The admin API's origin, e.g. "http://127.0.0.1:4780" (the page's own origin). */
  baseUrl: string;
  /** The bearer token, or null when none was given. */
  token: string | null;
}

function missingPathParameter(name: string): ApiError {
  const message = `${name} is required`;
  return new ApiError('invalid_input', message, { issues: [{ path: name, message }] });
}

function appendQuery(query: URLSearchParams, name: string, value: unknown): void {
  if (value === undefined) return;
  if (Array.isArray(value)) for (const item of value) appendQuery(query, name, item);
  else if (value !== null && typeof value === 'object') query.append(name, JSON.stringify(value));
  else query.append(name, String(value));
}

/**
 * The request for one member: `:name` path segments are filled from the input (and taken out of
 * it); what is left goes into the query for GET and DELETE, and into a JSON body otherwise.
 */
export function buildRequest(member: ApiMember, input: unknown, context: RequestContext): HttpRequest {
  if (!isApiMember(member)) throw new ApiError('not_found', `Gatehouse has no operation "${String(member)}".`);
  const { method, path } = endpoints[member];
  const rest: Record<string, unknown> = input !== null && typeof input === 'object' ? { ...(input as Record<string, unknown>) } : {};

  const filledPath = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_segment, name: string) => {
    const value = rest[name];
    if (typeof value !== 'string' && typeof value !== 'number') throw missingPathParameter(name);
    delete rest[name];
    return encodeURIComponent(String(value));
  });

  const url = new URL(filledPath, context.baseUrl);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (context.token) headers.Authorization = `Bearer ${context.token}`;

  if (method === 'GET' || method === 'DELETE') {
    for (const [name, value] of Object.entries(rest)) appendQuery(url.searchParams, name, value);
    return { url: url.href, init: { method, headers } };
  }
  headers['Content-Type'] = 'application/json';
  return { url: url.href, init: { method, headers, body: JSON.stringify(rest) } };
}

/** Reads the answer: the value on success, an ApiError built from the error body otherwise. */
export async function readResponse(response: Response): Promise<unknown> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError('internal', `Gatehouse answered HTTP ${response.status} with something that is not JSON.`);
  }
  if (response.ok) return body;
  const error = ApiError.fromBody(body);
  if (error.code === 'internal' && response.status === 401) {
    throw new ApiError('unauthorized', 'The admin token is missing or wrong.', {
      fix: 'Open the address that `gatehouse serve` printed; it carries the token.',
    });
  }
  throw error;
}

export interface HttpTransportOptions extends RequestContext {
  fetch: typeof fetch;
  /** Called each time the event stream connects again after a drop: events may have been missed. */
  onReconnect?: () => void;
  /** Reconnect delays: the first, doubling up to the last. Default: 500 ms to 30 s. */
  backoff?: { initialMs: number; maxMs: number };
}

/** A stream that stayed open this long was healthy: the next drop starts the backoff over. */
const HEALTHY_STREAM_MS = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function toApiEvent(message: SseMessage): ApiEvent | null {
  if (!(apiEventNames as readonly string[]).includes(message.event)) return null; // e.g. a keep-alive
  try {
    return { type: message.event as ApiEventName, data: JSON.parse(message.data) } as ApiEvent;
  } catch {
    console.warn(`Gatehouse sent a "${message.event}" event that is not JSON; it was ignored.`);
    return null;
  }
}

export function createHttpTransport(options: HttpTransportOptions): ApiTransport {
  const { fetch: fetchImpl, backoff = { initialMs: 500, maxMs: 30_000 } } = options;
  const listeners = new Set<(event: ApiEvent) => void>();
  let stream: AbortController | null = null;

  async function runEventStream(signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    const url = new URL('/api/events', options.baseUrl).href;
    let delay = backoff.initialMs;
    let connectedBefore = false;
    while (!signal.aborted) {
      const openedAt = Date.now();
      try {
        const response = await fetchImpl(url, { headers, signal });
        if (response.status === 401 || response.status === 403) {
          console.warn('Gatehouse refused the event stream (the admin token is missing or wrong); live updates are off.');
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        if (connectedBefore) options.onReconnect?.();
        connectedBefore = true;
        await readEventStream(
          response.body,
          (message) => {
            const event = toApiEvent(message);
            if (event) for (const listener of [...listeners]) listener(event);
          },
          signal,
        );
      } catch {
        // A dropped or refused connection: retried below.
      }
      if (signal.aborted) return;
      if (Date.now() - openedAt >= HEALTHY_STREAM_MS) delay = backoff.initialMs;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  }

  return {
    async call(member, input) {
      const { url, init } = buildRequest(member, input, options);
      let response: Response;
      try {
        response = await fetchImpl(url, init);
      } catch {
        throw new ApiError('internal', 'Gatehouse could not be reached.', {
          fix: 'Check that `gatehouse serve` is still running, then reload this page.',
        });
      }
      return readResponse(response);
    },

    subscribe(listener) {
      listeners.add(listener);
      if (!stream) {
        stream = new AbortController();
        void runEventStream(stream.signal);
      }
      return () => {
        if (!listeners.delete(listener) || listeners.size > 0) return;
        stream?.abort();
        stream = null;
      };
    },
  };
}

export interface TokenEnvironment {
  location: { hash: string; pathname: string; search: string };
  history: { replaceState(data: unknown, unused: string, url?: string): void };
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

/**
 * The admin token: taken once from `#token=…` (how `gatehouse serve` hands it over), kept in
 * sessionStorage, and removed from the address bar so it is not bookmarked, shared or screenshotted.
 */
export function readToken(env: TokenEnvironment): string | null {
  const fragment = new URLSearchParams(env.location.hash.replace(/^#/, ''));
  const fromUrl = fragment.get('token');
  if (fromUrl) {
    env.storage.setItem(TOKEN_STORAGE_KEY, fromUrl);
    fragment.delete('token');
    const rest = fragment.toString();
    env.history.replaceState(null, '', `${env.location.pathname}${env.location.search}${rest ? `#${rest}` : ''}`);
  }
  return env.storage.getItem(TOKEN_STORAGE_KEY);
}
