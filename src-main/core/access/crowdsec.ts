// Gatehouse as a bouncer of a CrowdSec Local API (LAPI), in stream mode: the first pull asks for
// every decision in force (`startup=true`), each later one every `pullSeconds` for what changed.
// Banned addresses live in a DecisionTable in memory, so a request never waits on CrowdSec.
//
// CrowdSec must never take a home lab down with it: when the LAPI stops answering, the bans it
// sent stay in force until each expires by its own duration, requests from everyone else pass,
// the state says "down" in plain words, and pulls retry with a growing pause. A refused key
// ("bad_key") and a missing one ("no_key") are shown the same way.
//
// banned() answers CrowdSec's raw decision, for any address. Whether this machine's own networks
// are exempt (crowdsec.applyToLan, default false: the owner is never banned) is the access pass's
// call, made before it asks the reputation (shared/access.ts, step 4).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'undici';
// undici's modules on their own, not its package entry: loading the whole of undici costs a
// gatehouse serve that never talks to CrowdSec ~10 MB (see upstreams/registry.ts, forward-auth.ts).
import PoolClass from 'undici/lib/dispatcher/pool.js';
import undiciRequest from 'undici/lib/api/api-request.js';
import type { AccessSettings, CrowdsecSettings, CrowdsecState, CrowdsecStatus } from '../../../shared/access.js';
import { packageVersion } from '../package-root.js';
import { restrictToOwner, writeFileDurably } from '../settings/durable-file.js';
import type { AccessContext } from './context.js';
import { DecisionTable, type LapiDecision } from './crowdsec-decisions.js';
import type { BanSource } from './reputation.js';

/** The bouncer key's file in the data directory (mode 0600). */
export const CROWDSEC_KEY_FILE = 'crowdsec-key';
/**
 * Decisions held at most (exact addresses and ranges together); past it, new ones are ignored and
 * the status says so. A decision costs about 120 bytes of memory here (measured), so the cap is
 * about 120 MB. CrowdSec's community blocklist is a few tens of thousands.
 */
export const MAX_DECISIONS = 1_000_000;
/** Longest pause between retries while the LAPI is down or refuses the key, in ms. */
const MAX_RETRY_MS = 60_000;
/** A pull that has not answered in this long counts as "did not answer", in ms. */
const PULL_TIMEOUT_MS = 10_000;
/**
 * Largest stream answer read, in bytes. Default: 64 MiB, about 335,000 decisions at the ~200 bytes
 * the LAPI writes for each. The answer is parsed with one JSON.parse, which holds up every request
 * while it runs: 0.7–1.5 s for 64 MiB on a busy 2-core machine (measured), where the 256 MiB this
 * was before took seconds. The community blocklist is a few tens of thousands (a few MB); a larger
 * answer is refused and the status says "the answer was larger than 64 MiB". Later (delta) pulls
 * are small, so the table can still grow past that to MAX_DECISIONS.
 */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/**
 * Failures where the pull never reached the LAPI. The LAPI moves a bouncer's "last pull" time only
 * after it sent a whole answer (pkg/apiserver/controllers/v1/decisions.go, StreamDecision), so
 * after these the next delta still holds everything since the last answer Gatehouse read, and a
 * full startup pull (megabytes, and a parse that blocks) is not needed.
 */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

const DEFAULTS: CrowdsecSettings = { enabled: false, url: 'http://127.0.0.1:8080', pullSeconds: 10, applyToLan: false };

interface StreamAnswer {
  new: LapiDecision[] | null;
  deleted: LapiDecision[] | null;
}

/** Why a pull failed, as the status says it. */
class PullFailure extends Error {
  constructor(
    readonly state: 'down' | 'bad_key',
    message: string,
  ) {
    super(message);
  }
}

export class CrowdsecBouncer implements BanSource {
  readonly source = 'crowdsec' as const;
  private settings: CrowdsecSettings = DEFAULTS;
  private key: string | null = null;
  private readonly table: DecisionTable;
  private state: CrowdsecState = 'off';
  private problem: string | null = null;
  private lastPullAt: number | null = null;
  /** One connection to the Local API (a pool of one: the pool module is what loads on its own). */
  private client: Pool | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Bumped whenever the pulls restart: an answer for an older generation is dropped. */
  private generation = 0;
  /** The next pull asks for the whole set (the first one, and the first after a failure that may have lost an answer). */
  private needStartup = true;
  private failures = 0;
  private lastReported = { state: 'off' as CrowdsecState, bans: 0 };
  private overflowWarned = false;

  constructor(
    private readonly context: () => AccessContext,
    /** Told when the state or the ban count changed. */
    private readonly onChange: () => void,
    options: { maxDecisions?: number } = {},
  ) {
    this.table = new DecisionTable(options.maxDecisions ?? MAX_DECISIONS);
  }

  private get keyFile(): string {
    return join(this.context().dataDir, CROWDSEC_KEY_FILE);
  }

  /** Reads the bouncer key from the data directory. */
  async load(): Promise<void> {
    try {
      const text = (await fs.readFile(this.keyFile, 'utf8')).trim();
      this.key = text === '' ? null : text;
      await restrictToOwner(this.keyFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.key = null;
    }
  }

  apply(settings: AccessSettings): void {
    const next = settings.crowdsec;
    const previous = this.settings;
    this.settings = next;
    // applyToLan is the access pass's business; every other change (list edits included) leaves
    // the pulls alone unless it is CrowdSec's own.
    if (previous.enabled === next.enabled && previous.url === next.url && previous.pullSeconds === next.pullSeconds && this.state !== 'off') return;
    this.restart();
  }

  banned(address: string): { reason: string; until: number | null } | null {
    return this.table.lookup(address, Date.now());
  }

  /** Sets the bouncer key ("" removes it); stored with mode 0600, never returned. */
  async setApiKey(key: string): Promise<void> {
    const trimmed = key.trim();
    if (trimmed === '') await fs.rm(this.keyFile, { force: true });
    else await writeFileDurably(this.keyFile, `${trimmed}\n`, { mode: 0o600 });
    this.key = trimmed === '' ? null : trimmed;
    this.restart();
  }

  status(): CrowdsecStatus {
    return {
      settings: { ...this.settings },
      apiKeySet: this.key !== null,
      state: this.state,
      problem: this.problem,
      lastPullAt: this.lastPullAt === null ? null : new Date(this.lastPullAt).toISOString(),
      bans: this.table.size,
    };
  }

  close(): void {
    this.stop();
    this.state = 'off';
  }

  /** Starts over from the current settings and key: a new connection, a full pull. */
  private restart(): void {
    this.stop();
    this.failures = 0;
    this.needStartup = true;
    if (!this.settings.enabled) {
      // Turned off: CrowdSec refuses nobody any more.
      this.table.clear();
      this.lastPullAt = null;
      this.setState('off', null);
      return;
    }
    // Without a key (or with a new URL until its first answer) the bans already held stay in force
    // until they expire: a lapse in CrowdSec's reach must not open the door to what it banned.
    if (this.key === null) {
      this.setState('no_key', 'there is no bouncer key; create one with `cscli bouncers add gatehouse` and enter it here');
      this.keepExpiring();
      return;
    }
    let origin: URL;
    try {
      origin = new URL(this.settings.url);
    } catch {
      this.setState('down', `"${this.settings.url}" is not an address; enter the Local API's, such as http://127.0.0.1:8080`);
      this.keepExpiring();
      return;
    }
    this.client = new PoolClass(origin.origin, {
      connections: 1,
      connectTimeout: PULL_TIMEOUT_MS,
      headersTimeout: PULL_TIMEOUT_MS,
      bodyTimeout: PULL_TIMEOUT_MS,
      maxResponseSize: MAX_ANSWER_BYTES,
    });
    this.setState('connecting', null);
    this.schedule(0);
  }

  private stop(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    // destroy() also fails a pull in flight; its answer is dropped by the generation check.
    void client?.destroy().catch(() => undefined);
  }

  /** With no pulls to run, held bans still leave the count as they expire. */
  private keepExpiring(): void {
    const generation = this.generation;
    this.timer = setTimeout(() => {
      if (generation !== this.generation) return;
      this.expire();
      this.setState(this.state, this.problem);
      this.keepExpiring();
    }, this.settings.pullSeconds * 1000);
    this.timer.unref();
  }

  private schedule(ms: number): void {
    const generation = this.generation;
    this.timer = setTimeout(() => void this.pull(generation), ms);
    this.timer.unref();
  }

  private async pull(generation: number): Promise<void> {
    const client = this.client;
    if (!client || generation !== this.generation) return;
    const startup = this.needStartup;
    let answer: StreamAnswer;
    try {
      answer = await this.fetchStream(client, startup);
    } catch (error) {
      if (generation !== this.generation) return;
      this.failures++;
      const failure = error instanceof PullFailure ? error : new PullFailure('down', this.unanswered(error));
      // An answer the LAPI may have sent but Gatehouse did not apply (a reset, a timeout, a refusal,
      // something unreadable) may have moved its "last pull" past decisions never seen: the next
      // pull takes the whole set. A pull that never reached it loses nothing.
      if (!NOT_SENT.has(this.codeOf(error))) this.needStartup = true;
      this.expire();
      this.setState(failure.state, failure.message);
      const pause = Math.min(this.settings.pullSeconds * 1000 * 2 ** (this.failures - 1), Math.max(MAX_RETRY_MS, this.settings.pullSeconds * 1000));
      this.schedule(pause);
      return;
    }
    if (generation !== this.generation) return;
    const now = Date.now();
    if (startup) this.table.replaceAll(answer.new, answer.deleted, now);
    else this.table.applyPull(answer.new, answer.deleted, now);
    this.needStartup = false;
    this.failures = 0;
    this.lastPullAt = now;
    this.table.sweep(now);
    this.setState('ok', this.overflowProblem());
    this.schedule(this.settings.pullSeconds * 1000);
  }

  /** One GET of /v1/decisions/stream; throws a PullFailure saying what went wrong. */
  private async fetchStream(client: Pool, startup: boolean): Promise<StreamAnswer> {
    const base = new URL(this.settings.url).pathname.replace(/\/+$/, '');
    const path = `${base}/v1/decisions/stream?${startup ? 'startup=true&' : ''}scopes=ip,range`;
    const res = await undiciRequest.call(client, {
      method: 'GET',
      path,
      headers: { 'x-api-key': this.key ?? '', 'user-agent': userAgent(), accept: 'application/json' },
    });
    const text = await res.body.text();
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new PullFailure('bad_key', `the bouncer key was refused by CrowdSec's Local API at ${this.settings.url}; create one with \`cscli bouncers add gatehouse\` and enter it here`);
    }
    if (res.statusCode !== 200) {
      const hint = res.statusCode === 404 ? ' Is this the Local API\'s address (usually http://127.0.0.1:8080)?' : '';
      throw new PullFailure('down', `CrowdSec's Local API at ${this.settings.url} answered ${res.statusCode}${messageOf(text)}.${hint}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PullFailure('down', `CrowdSec's Local API at ${this.settings.url} answered with something that is not a list of decisions. Is this the Local API's address?`);
    }
    const answer = parsed as Partial<StreamAnswer> | null;
    if (typeof answer !== 'object' || answer === null || !listOrNull(answer.new) || !listOrNull(answer.deleted)) {
      throw new PullFailure('down', `CrowdSec's Local API at ${this.settings.url} answered with something that is not a list of decisions. Is this the Local API's address?`);
    }
    return { new: answer.new ?? null, deleted: answer.deleted ?? null };
  }

  /** The socket's or undici's error code ("ECONNREFUSED"), or "" (a PullFailure has none). */
  private codeOf(error: unknown): string {
    if (error instanceof PullFailure) return '';
    const err = error as { code?: string; cause?: { code?: string } } | null;
    return (err?.code === 'UND_ERR_SOCKET' || err?.code === undefined ? (err?.cause?.code ?? err?.code) : err.code) ?? '';
  }

  /** "did not answer: connection refused", from a socket or undici error. */
  private unanswered(error: unknown): string {
    const err = error as { message?: string };
    const code = this.codeOf(error);
    const reasons: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ECONNRESET: 'the connection was reset',
      EHOSTUNREACH: 'the host is unreachable',
      ENETUNREACH: 'the network is unreachable',
      ENOTFOUND: 'no such host name',
      EAI_AGAIN: 'its name could not be looked up',
      UND_ERR_CONNECT_TIMEOUT: `no connection within ${PULL_TIMEOUT_MS / 1000} seconds`,
      UND_ERR_HEADERS_TIMEOUT: `no answer within ${PULL_TIMEOUT_MS / 1000} seconds`,
      UND_ERR_BODY_TIMEOUT: `the answer stalled for ${PULL_TIMEOUT_MS / 1000} seconds`,
      UND_ERR_RES_EXCEEDED_MAX_SIZE: `the answer was larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`,
      UND_ERR_SOCKET: 'the connection closed',
    };
    const reason = (code === '' ? undefined : reasons[code]) ?? err?.message ?? String(error);
    return `CrowdSec's Local API at ${this.settings.url} did not answer: ${reason}`;
  }

  /** Drops expired decisions while no answer comes: they end by their duration all the same. */
  private expire(): void {
    this.table.sweep(Date.now());
  }

  private overflowProblem(): string | null {
    if (this.table.overflow === 0) return null;
    if (!this.overflowWarned) {
      this.overflowWarned = true;
      console.warn(`gatehouse: CrowdSec sent more than ${this.table.cap.toLocaleString('en')} decisions; the ones past that are ignored.`);
    }
    return `CrowdSec sent more than ${this.table.cap.toLocaleString('en')} decisions; Gatehouse holds that many and ignores the rest.`;
  }

  private setState(state: CrowdsecState, problem: string | null): void {
    this.state = state;
    this.problem = problem;
    const bans = this.table.size;
    if (state === this.lastReported.state && bans === this.lastReported.bans) return;
    this.lastReported = { state, bans };
    this.onChange();
  }
}

let agent: string | null = null;

/** CrowdSec lists a bouncer's User-Agent `name/version` as its type and version (`cscli bouncers list`). */
function userAgent(): string {
  return (agent ??= `gatehouse-bouncer/${packageVersion()}`);
}

function listOrNull(value: unknown): boolean {
  return value === null || value === undefined || Array.isArray(value);
}

/** The LAPI's `{"message": …}`, as ": message"; "" when there is none. */
function messageOf(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    return typeof message === 'string' && message !== '' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
