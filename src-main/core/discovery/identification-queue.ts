// Identifies discovered web services over HTTP(S) without hammering anyone: at most two
// identifications run at a time, each service is identified once per (host, port, addresses) and
// the result is kept, and a service that changes is identified again. "Probe a host" calls are
// single-flight per address: one runs at a time, and the same request made again while it runs
// shares its answer.
import type { HostProbe, Identification } from '../../../shared/status.js';
import type { IdentifyOptions, IdentifyTarget } from './identify.js';

export interface IdentificationRequest {
  /** The service's id ("host:port"), under which the result is kept. */
  id: string;
  target: IdentifyTarget;
  /** What makes the result stale when it changes: host, port and addresses. */
  fingerprint: string;
}

interface Entry {
  fingerprint: string;
  result: Identification | null;
  done: boolean;
}

export interface IdentificationQueueOptions {
  identify: (target: IdentifyTarget, options: IdentifyOptions) => Promise<Identification | null>;
  /** Called when a result arrives. */
  onResult: () => void;
  /** Default 2. */
  concurrency?: number;
  /** One identification's whole budget. Default 6 s. */
  timeoutMs?: number;
}

export class IdentificationQueue {
  readonly #entries = new Map<string, Entry>();
  readonly #waiting: IdentificationRequest[] = [];
  #running = 0;
  readonly #abort = new AbortController();

  constructor(private readonly options: IdentificationQueueOptions) {}

  /** Queues the service unless it was identified (or is queued) with the same fingerprint. */
  request(request: IdentificationRequest): void {
    const entry = this.#entries.get(request.id);
    if (entry?.fingerprint === request.fingerprint || this.#abort.signal.aborted) return;
    this.#entries.set(request.id, { fingerprint: request.fingerprint, result: null, done: false });
    const queued = this.#waiting.findIndex((waiting) => waiting.id === request.id);
    if (queued !== -1) this.#waiting.splice(queued, 1);
    this.#waiting.push(request);
    this.#next();
  }

  result(id: string): Identification | null {
    return this.#entries.get(id)?.result ?? null;
  }

  /** Stops what runs and forgets every result (mDNS turned off). */
  close(): void {
    this.#abort.abort();
    this.#waiting.length = 0;
    this.#entries.clear();
  }

  #next(): void {
    const concurrency = this.options.concurrency ?? 2;
    while (this.#running < concurrency && this.#waiting.length > 0) {
      const request = this.#waiting.shift()!;
      this.#running += 1;
      void this.#run(request).finally(() => {
        this.#running -= 1;
        this.#next();
      });
    }
  }

  async #run(request: IdentificationRequest): Promise<void> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 6000)]);
    let result: Identification | null = null;
    try {
      result = await this.options.identify(request.target, { signal, timeoutMs: this.options.timeoutMs ?? 6000 });
    } catch {
      // Not recognised, unreachable or too slow: the service is listed without an identification.
    }
    const entry = this.#entries.get(request.id);
    // A newer fingerprint was queued meanwhile: this result describes what the service was.
    if (!entry || entry.fingerprint !== request.fingerprint) return;
    entry.result = result;
    entry.done = true;
    if (result) this.options.onResult();
  }
}

/**
 * Runs one host probe per address at a time: the same request (address and ports) made while one
 * runs gets that run's answer; a different one for the same address waits for it to finish.
 */
export class HostProbeLimiter {
  readonly #runs = new Map<string, { key: string; promise: Promise<HostProbe> }>();

  run(address: string, ports: readonly number[] | undefined, probe: () => Promise<HostProbe>): Promise<HostProbe> {
    const requestKey = ports ? [...ports].sort((a, b) => a - b).join(',') : 'default';
    const current = this.#runs.get(address);
    if (current?.key === requestKey) return current.promise;
    const previous = current?.promise.catch(() => undefined) ?? Promise.resolve();
    const promise = previous.then(probe);
    const run = { key: requestKey, promise };
    this.#runs.set(address, run);
    const forget = () => void (this.#runs.get(address) === run && this.#runs.delete(address));
    promise.then(forget, forget);
    return promise;
  }
}
