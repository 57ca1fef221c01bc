// RSA 2048 key pairs generated ahead of time. Generating one takes OpenSSL tens to hundreds of
// milliseconds (it is a search for primes, so the time varies a lot), which is most of what issuing
// a leaf costs; with a key waiting, a new route's certificate is signed in a few milliseconds. Keys
// are generated on the libuv thread pool (node:crypto's async generateKeyPair), never on the event
// loop that serves the proxy, and only in memory: a spare key is never written anywhere.
import { generateRsaKeyPair, type KeyPairPem } from './x509.js';

export class SpareKeys {
  readonly #wanted: number;
  readonly #ready: KeyPairPem[] = [];
  /** Key generations under way, toward #wanted. */
  #generating = 0;
  #closed = false;
  /** Callers of whenSettled, told once no generation is under way. */
  #waiting: (() => void)[] = [];

  /** Starts generating `wanted` keys in the background (0: every key is generated on demand). */
  constructor(wanted: number) {
    this.#wanted = Math.max(0, Math.floor(wanted));
    this.#refill();
  }

  /** A key pair: a spare one when there is one (then another is generated), else a new one. */
  async take(): Promise<KeyPairPem> {
    const spare = this.#ready.shift();
    this.#refill();
    return spare ?? generateRsaKeyPair();
  }

  /**
   * Resolves once no key is being generated: every wanted key is ready (unless a generation
   * failed), or the pool is closed. For those who want the next take() at its quickest and would
   * otherwise guess how long generating takes.
   */
  whenSettled(): Promise<void> {
    if (this.#closed || this.#generating === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops refilling; keys being generated are dropped when they arrive. */
  close(): void {
    this.#closed = true;
    this.#ready.length = 0;
    this.#settle();
  }

  #refill(): void {
    while (!this.#closed && this.#ready.length + this.#generating < this.#wanted) {
      this.#generating++;
      generateRsaKeyPair().then(
        (keys) => {
          this.#generating--;
          if (!this.#closed) this.#ready.push(keys);
          this.#settle();
        },
        // A failed generation (out of memory, say) leaves the pool short; take() generates on demand.
        () => {
          this.#generating--;
          this.#settle();
        },
      );
    }
  }

  #settle(): void {
    if (!this.#closed && this.#generating > 0) return;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}
