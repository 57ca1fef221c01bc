// A fixed-capacity table of per-client counters (rate buckets, scanner hit counts), so a flood from
// a million addresses costs the same memory as one from `capacity` addresses. Slots live in typed
// arrays allocated once; a Map finds a key's slot. When the table is full, a CLOCK hand picks the
// slot to reuse:
//   - a slot that is idle (among the next few) (its bucket is full again, its window is over) goes first: dropping it
//     loses nothing, a new bucket for that client would start the same;
//   - otherwise a slot that was not used since the hand last passed (its "second chance" bit is
//     clear) goes. New slots start with the bit clear and only a second request sets it, so a
//     flood of one-request addresses evicts its own kind before a client that keeps coming back
//     (the scan resistance CLOCK-Pro is after, at the cost of one bit).
// No timers, no per-entry objects: a slot is an index into the arrays. The arrays start small and
// double as keys arrive, up to `capacity`: an idle proxy does not hold a flood's worth of slots.

/** Slots ahead of the clock hand searched for an idle one before evicting a live one. */
const IDLE_LOOKAHEAD = 8;
/** Slots allocated before the first key; the arrays double from there. */
const INITIAL_SLOTS = 256;

/** Says whether slot `slot` holds nothing worth keeping at time `now` (ms). */
export type IdleCheck = (table: BoundedTable, slot: number, now: number) => boolean;

export class BoundedTable {
  /** Key → slot. Never holds more than `capacity` keys. */
  private readonly index = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [];
  /** The slot's first value (a bucket's "full again at" time, a window's start), in ms. Replaced when the table grows: read it through the table. */
  a: Float64Array;
  /** The slot's second value (a hit count). Replaced when the table grows. */
  b: Float64Array;
  private referenced: Uint8Array;
  private hand = 0;
  private used = 0;
  /** Slots reused while the table was full (for tests and the bench). */
  evictions = 0;

  constructor(
    /** Most keys held at once. */
    readonly capacity: number,
    private readonly idle: IdleCheck,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a bounded table holds at least one key, not ${capacity}`);
    const initial = Math.min(capacity, INITIAL_SLOTS);
    this.a = new Float64Array(initial);
    this.b = new Float64Array(initial);
    this.referenced = new Uint8Array(initial);
  }

  get size(): number {
    return this.index.size;
  }

  /** The slot holding `key`, or -1. Marks it used. */
  find(key: string): number {
    const slot = this.index.get(key);
    if (slot === undefined) return -1;
    this.referenced[slot] = 1;
    return slot;
  }

  /**
   * A slot for `key`, which is not in the table (call find first): a free one, or one taken from
   * another key. Its values are the caller's to set.
   */
  insert(key: string, now: number): number {
    let slot: number;
    if (this.used < this.capacity) {
      if (this.used === this.a.length) this.grow();
      slot = this.used++;
    } else {
      slot = this.victim(now);
      this.index.delete(this.keys[slot] as string);
      this.evictions++;
    }
    this.keys[slot] = key;
    this.referenced[slot] = 0;
    this.index.set(key, slot);
    return slot;
  }

  /** Forgets `key`; its slot is reused only by the clock (no free list to grow). */
  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.index.delete(key);
    this.keys[slot] = undefined;
    this.referenced[slot] = 0;
    this.a[slot] = 0;
    this.b[slot] = 0;
    return true;
  }

  /** Every slot's key, for a settings change that drops a route's counters. */
  *entries(): IterableIterator<[string, number]> {
    yield* this.index.entries();
  }

  /** Twice the slots (at most `capacity`), the values copied over. */
  private grow(): void {
    const size = Math.min(this.capacity, this.a.length * 2);
    const a = new Float64Array(size);
    const b = new Float64Array(size);
    const referenced = new Uint8Array(size);
    a.set(this.a);
    b.set(this.b);
    referenced.set(this.referenced);
    [this.a, this.b, this.referenced] = [a, b, referenced];
  }

  /** Empties the table (its arrays stay allocated). */
  clear(): void {
    this.index.clear();
    this.keys.fill(undefined);
    this.referenced.fill(0);
    this.used = 0;
    this.hand = 0;
  }

  /**
   * The slot to reuse. First a look at the next IDLE_LOOKAHEAD slots from the hand for an empty or
   * idle one (dropping it loses nothing); then CLOCK: at most two turns of the hand, the first
   * clearing every second-chance bit it passes, so the second finds a clear one. Amortised O(1):
   * each bit cleared was set by a request.
   */
  private victim(now: number): number {
    for (let i = 0, slot = this.hand; i < IDLE_LOOKAHEAD && i < this.capacity; i++) {
      if (this.keys[slot] === undefined || this.idle(this, slot, now)) {
        this.hand = slot + 1 === this.capacity ? 0 : slot + 1;
        return slot;
      }
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
    for (let turns = 0; turns < 2 * this.capacity; turns++) {
      const slot = this.hand;
      this.hand = slot + 1 === this.capacity ? 0 : slot + 1;
      if (this.referenced[slot] === 1) this.referenced[slot] = 0;
      else return slot;
    }
    return this.hand; // unreachable: the second turn finds every bit clear
  }
}
