// The API over HTTP, for the renderer served by `gatehouse serve`: each member is a request as
// `endpoints` describes it, events arrive over SSE. Requests carry the session cookie the browser
// holds after signing in (shared/admin-auth.ts), never a token: a token in the page would end up in
// URLs, history and storage that outlive the session. Every browser global it uses is passed in, so
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

export interface HttpRequest {
  url: string;
  init: { method: string; headers: Record<string, string>; body?: string; credentials: 'same-origin' };
}

export interface RequestContext {
  /** The admin API's origin, e.g. "http://127.0.0.1:4780" (the page's own origin). */
  baseUrl: string;
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
  // Same-origin is fetch's default; said here so no later change can send the cookie elsewhere.
  const credentials = 'same-origin';

  if (method === 'GET' || method === 'DELETE') {
    for (const [name, value] of Object.entries(rest)) appendQuery(url.searchParams, name, value);
    return { url: url.href, init: { method, headers, credentials } };
  }
  headers['Content-Type'] = 'application/json';
  return { url: url.href, init: { method, headers, body: JSON.stringify(rest), credentials } };
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
    throw new ApiError('unauthorized', 'You are not signed in, or your session has ended.', { fix: 'Sign in again.' });
  }
  throw error;
}

export interface HttpTransportOptions extends RequestContext {
  fetch: typeof fetch;
  /** Called when Gatehouse answers 401: the session ended (expired, or signed out elsewhere). */
  onUnauthorized?: () => void;
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

export interface HttpTransport extends ApiTransport {
  /** Closes the event stream while nobody is signed in: an ended session gets no more live data. */
  pauseEvents(): void;
  /**
   * Opens the event stream again after it stopped on a 401 or a pause, once the person has signed
   * in again (a no-op while it runs or nobody listens).
   */
  resumeEvents(): void;
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const { fetch: fetchImpl, backoff = { initialMs: 500, maxMs: 30_000 } } = options;
  const listeners = new Set<(event: ApiEvent) => void>();
  let stream: AbortController | null = null;

  let refused = false;

  async function runEventStream(signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    const url = new URL('/api/events', options.baseUrl).href;
    let delay = backoff.initialMs;
    let connectedBefore = false;
    while (!signal.aborted) {
      const openedAt = Date.now();
      try {
        const response = await fetchImpl(url, { headers, signal, credentials: 'same-origin' });
        if (response.status === 401 || response.status === 403) {
          // Retrying cannot help until the person signs in again: resumeEvents() starts over then.
          refused = true;
          if (response.status === 401) options.onUnauthorized?.();
          else console.warn('Gatehouse refused the event stream (403); live updates are off.');
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
      if (response.status === 401) options.onUnauthorized?.();
      return readResponse(response);
    },

    subscribe(listener) {
      listeners.add(listener);
      if (!stream) openStream();
      return () => {
        if (!listeners.delete(listener) || listeners.size > 0) return;
        stream?.abort();
        stream = null;
      };
    },

    pauseEvents() {
      refused = true;
      stream?.abort();
      stream = null;
    },

    resumeEvents() {
      if (!refused || listeners.size === 0) return;
      stream?.abort();
      openStream();
    },
  };

  function openStream(): void {
    refused = false;
    stream = new AbortController();
    void runEventStream(stream.signal);
  }
}

export interface AddressBar {
  location: { hash: string; pathname: string; search: string };
  history: { replaceState(data: unknown, unused: string, url?: string): void };
}

/**
 * Takes a `#token=…` left by an old bookmark (earlier versions handed the token over that way) out
 * of the address bar, without keeping it anywhere: signing in replaces it. True when one was there.
 */
export function stripTokenFromAddress(bar: AddressBar): boolean {
  const fragment = new URLSearchParams(bar.location.hash.replace(/^#/, ''));
  if (!fragment.has('token')) return false;
  fragment.delete('token');
  const rest = fragment.toString();
  bar.history.replaceState(null, '', `${bar.location.pathname}${bar.location.search}${rest ? `#${rest}` : ''}`);
  return true;
}
