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

  /** Stops refilling; keys being generated are dropped when they arrive. */
  close(): void {
    this.#closed = true;
    this.#ready.length = 0;
  }

  #refill(): void {
    while (!this.#closed && this.#ready.length + this.#generating < this.#wanted) {
      this.#generating++;
      generateRsaKeyPair().then(
        (keys) => {
          this.#generating--;
          if (!this.#closed) this.#ready.push(keys);
        },
        // A failed generation (out of memory, say) leaves the pool short; take() generates on demand.
        () => this.#generating--,
      );
    }
  }
}
