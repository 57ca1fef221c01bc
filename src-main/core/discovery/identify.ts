// Identifies what web service answers at one address:port, gently: the landing page first (title,
// Server header, at most two same-host redirects), then only the well-known endpoints of the
// presets that page or the port points to, at most MAX_ENDPOINT_REQUESTS of them, all within one
// budget (2.5 s by default). The scheme given is tried first; a TLS port asked in plain HTTP (or
// the reverse) is noticed and asked again the other way.
import type { Identification } from '../../../shared/status.js';
import { fingerprints, type EndpointAnswer, type Fingerprint, type LandingPage } from './fingerprints.js';
import { peek, type PeekResult, type PeekedResponse } from './http-peek.js';
import { presetById, presets } from './presets.js';

export interface IdentifyTarget {
  address: string;
  port: number;
  /** Try this scheme first (from the mDNS type or TXT); both are tried when left out. */
  scheme?: 'http' | 'https';
  /** The host name to send in Host (the SRV target, such as "homeassistant.local"); default the address. */
  hostName?: string;
}

export interface IdentifyOptions {
  signal?: AbortSignal;
  /** Whole-identification budget. */
  timeoutMs?: number;
}

/** Default whole-identification budget, ms. */
export const IDENTIFY_TIMEOUT_MS = 2500;
/** Time to get a TCP connection, ms: a LAN device answers in a few. */
const CONNECT_TIMEOUT_MS = 700;
/** Longest single request, ms (within the budget). */
const REQUEST_TIMEOUT_MS = 1500;
/** Body bytes read from the landing page; titles and app shells fit well within it. */
const LANDING_BODY_BYTES = 64 * 1024;
/** Body bytes read from a well-known endpoint (small JSON or XML). */
const ENDPOINT_BODY_BYTES = 16 * 1024;
/** Redirects followed, same host and port only. */
const MAX_REDIRECTS = 2;
/** Well-known endpoint requests after the landing page, at most. */
const MAX_ENDPOINT_REQUESTS = 6;

type Scheme = 'http' | 'https';

/** A 400 a TLS port sends to a plain request ("The plain HTTP request was sent to HTTPS port"). */
function asksForTls(response: PeekedResponse): boolean {
  return response.status === 400 && /https|\btls\b|\bssl\b/i.test(response.body.slice(0, 2048));
}

/** The first <title>, entities decoded and white space folded; null when there is none. */
export function pageTitle(body: string): string | null {
  const match = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(body);
  if (!match?.[1]) return null;
  const text = match[1]
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;|&apos;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
  return text === '' ? null : text.slice(0, 200);
}

/** The schemes to try, in order: the given one, else HTTPS first on an appliance's HTTPS port. */
function schemeOrder(target: IdentifyTarget): Scheme[] {
  const httpsFirst = target.scheme === 'https' || (target.scheme === undefined && (target.port === 443 || presets.some((p) => p.scheme === 'https' && p.defaultPorts[0] === target.port)));
  return httpsFirst ? ['https', 'http'] : ['http', 'https'];
}

class IdentifySession {
  private readonly deadline: number;
  private readonly answers = new Map<string, Promise<PeekResult>>();
  private endpointRequests = 0;
  readonly evidence: string[] = [];

  constructor(
    private readonly target: IdentifyTarget,
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.deadline = Date.now() + timeoutMs;
  }

  timeLeft(): number {
    return this.deadline - Date.now();
  }

  get(scheme: Scheme, path: string, maxBodyBytes: number): Promise<PeekResult> {
    const key = `${scheme} ${path}`;
    let answer = this.answers.get(key);
    if (!answer) {
      const left = this.timeLeft();
      answer =
        left <= 0
          ? Promise.resolve({ kind: 'no-answer', reason: 'out of time' } as const)
          : peek({
              address: this.target.address,
              port: this.target.port,
              hostName: this.target.hostName,
              scheme,
              path,
              connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, left),
              timeoutMs: Math.min(REQUEST_TIMEOUT_MS, left),
              maxBodyBytes,
              signal: this.signal,
            });
      this.answers.set(key, answer);
    }
    return answer;
  }

  /** The landing page over whichever scheme the port speaks, or null when nothing answers HTTP. */
  async landing(): Promise<{ scheme: Scheme; response: PeekedResponse } | null> {
    const [first, second] = schemeOrder(this.target) as [Scheme, Scheme];
    const answer = await this.get(first, '/', LANDING_BODY_BYTES);
    if (answer.kind === 'response' && !(first === 'http' && asksForTls(answer))) return { scheme: first, response: answer };
    if (answer.kind === 'no-answer' && !/reset/.test(answer.reason)) return null;
    // The port wants the other scheme (or a reset hides which): ask once more that way.
    const other = await this.get(second, '/', LANDING_BODY_BYTES);
    if (other.kind === 'response') {
      this.evidence.push(second === 'https' ? 'the port speaks HTTPS (a plain request was turned away)' : 'the port speaks plain HTTP, not TLS');
      return { scheme: second, response: other };
    }
    return answer.kind === 'response' ? { scheme: first, response: answer } : null;
  }

  /** Same host and port only; the path to follow, or null. */
  private redirectPath(location: string, scheme: Scheme): string | null {
    const hostName = this.target.hostName ?? this.target.address;
    const base = `${scheme}://${hostName.includes(':') ? `[${hostName}]` : hostName}:${this.target.port}/`;
    let url: URL;
    try {
      url = new URL(location, base);
    } catch {
      return null;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    const sameHost = host === hostName || host === this.target.address;
    if (!sameHost || port !== this.target.port || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null;
    return `${url.pathname}${url.search}`;
  }

  /** Follows at most MAX_REDIRECTS same-host redirects from `response`. */
  async follow(scheme: Scheme, response: PeekedResponse, maxBodyBytes: number, redirects: string[]): Promise<PeekedResponse> {
    let current = response;
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const location = current.status >= 300 && current.status < 400 ? current.headers.location : undefined;
      if (!location) break;
      redirects.push(location);
      const path = this.redirectPath(location, scheme);
      if (!path) {
        this.evidence.push(`redirects elsewhere (${location.slice(0, 120)})`);
        break;
      }
      const next = await this.get(scheme, path, maxBodyBytes);
      if (next.kind !== 'response') break;
      current = next;
    }
    return current;
  }

  /** Asks one well-known endpoint (following a same-host redirect); null past the request cap. */
  async endpoint(scheme: Scheme, path: string): Promise<EndpointAnswer | null> {
    if (!this.answers.has(`${scheme} ${path}`)) {
      if (this.endpointRequests >= MAX_ENDPOINT_REQUESTS || this.timeLeft() <= 0) return null;
      this.endpointRequests++;
    }
    const answer = await this.get(scheme, path, ENDPOINT_BODY_BYTES);
    if (answer.kind !== 'response') return null;
    const final = await this.follow(scheme, answer, ENDPOINT_BODY_BYTES, []);
    return { status: final.status, headers: final.headers, body: final.body, title: pageTitle(final.body) };
  }
}

/** Presets worth an endpoint request: the page names the app first, then the port is its default. */
function candidates(page: LandingPage, port: number): Fingerprint[] {
  const text = `${page.title ?? ''} ${page.server ?? ''} ${page.body.slice(0, 8192)}`.toLowerCase();
  // The app's first word ("Plex" of "Plex Media Server") is how pages and headers name it.
  const named = fingerprints.filter((fp) => fp.endpoints && text.includes((presetById(fp.presetId)?.app ?? fp.presetId).split(' ')[0]!.toLowerCase()));
  const byPort = fingerprints.filter((fp) => fp.endpoints && presetById(fp.presetId)?.defaultPorts.includes(port));
  return [...new Set([...named, ...byPort])];
}

function identified(presetId: string, scheme: Scheme, evidence: string[]): Identification {
  return { presetId, app: presetById(presetId)?.app ?? presetId, scheme, evidence };
}

/**
 * What answers HTTP(S) at target: a preset's app with the evidence, the page's title (or Server
 * header) when no preset matches, or null when nothing answers HTTP in time. Rejects only when
 * `signal` aborts.
 */
export async function identifyService(target: IdentifyTarget, options: IdentifyOptions = {}): Promise<Identification | null> {
  const session = new IdentifySession(target, options.timeoutMs ?? IDENTIFY_TIMEOUT_MS, options.signal);
  const landing = await session.landing();
  if (!landing) return null;
  const { scheme } = landing;
  const redirects: string[] = [];
  const final = await session.follow(scheme, landing.response, LANDING_BODY_BYTES, redirects);
  const page: LandingPage = { status: final.status, title: pageTitle(final.body), server: final.headers.server ?? null, body: final.body, redirects };

  for (const fp of fingerprints) {
    const sign = fp.landing?.(page);
    if (sign) return identified(fp.presetId, scheme, [...session.evidence, sign]);
  }
  for (const fp of candidates(page, target.port)) {
    for (const endpoint of fp.endpoints ?? []) {
      const answer = await session.endpoint(scheme, endpoint.path);
      const sign = answer && endpoint.check(answer);
      if (sign) return identified(fp.presetId, scheme, [...session.evidence, sign]);
    }
  }

  const evidence = [...session.evidence];
  if (page.title) evidence.push(`title ${JSON.stringify(page.title)}`);
  if (page.server) evidence.push(`Server header ${JSON.stringify(page.server)}`);
  if (evidence.length === 0) evidence.push(`answers HTTP ${page.status} with no title`);
  return { presetId: null, app: page.title ?? page.server ?? `Web service (HTTP ${page.status})`, scheme, evidence };
}
