// Answers for routes' `.local` names on the LAN the way RFC 6762 asks a host name to be claimed:
//
// 1. Probe (§8.1): after a random 0–250 ms, three "ANY name?" queries 250 ms apart, the first with
//    the QU bit, our proposed A/AAAA records in the authority section. Any answer for the name with
//    other addresses means another device holds it: a conflict, and nothing is announced.
// 2. Simultaneous probes (§8.2): another host probing the same name at the same time is settled by
//    comparing both proposals; the loser waits one second and probes again (where it then meets the
//    winner's answer, a conflict).
// 3. Announce (§8.3): two unsolicited responses one second apart, cache-flush bit set.
// 4. Answer (§6): multicast, at most once a second per name except to defend against a probe;
//    unicast to a querier that asked for it (QU, §5.4); to a one-shot query from a port other than
//    5353 (dig, §6.7) a unicast reply with the question echoed and a 10 s TTL. Known answers the
//    querier already holds are left out (§7.1); an NSEC says which address family does not exist
//    (§6.1), so nobody waits for an AAAA that will not come.
// 5. Defend (§9): a conflicting answer from another host after announcing is a conflict too; our
//    records are withdrawn (a goodbye), so devices do not flip between two owners.
// 6. Goodbye (§10.1): every announced record is sent again with TTL 0 when the name is dropped, and
//    the returned promise resolves once that packet is sent.
//
// A conflict is not resolved by renaming on our own (the route's name is the user's choice): the
// state says who answered, and a free name is suggested.
import type { Problem } from '../../../shared/status.js';
import type { MdnsQuestion, MdnsRecord, MdnsSocket, Sender } from './mdns-socket.js';
import { MDNS_PORT } from './mdns-socket.js';
import {
  addressRecords,
  addressRecordsIn,
  asksForAddress,
  encodeProbe,
  HOST_RECORD_TTL_S,
  LEGACY_TTL_S,
  rdata,
  sameName,
  suggestName,
  tiebreak,
  wantsUnicast,
  type AddressRecord,
} from './name-records.js';

export interface NameToPublish {
  routeId: string;
  name: string;
}

export interface ClaimState {
  state: 'probing' | 'announced' | 'conflict';
  addresses: string[];
  problem: Problem | null;
  suggestion: string | null;
}

interface Claim extends ClaimState {
  routeId: string;
  name: string;
  /** Bumped to cancel the probe or announcement under way. */
  generation: number;
  lostTiebreak: boolean;
  /** What caches may hold from us, for the goodbye; null before the first announcement. */
  announced: AddressRecord[] | null;
  lastMulticastAt: number;
}

const PROBE_INTERVAL_MS = 250;
const PROBES = 3;
/** After losing a simultaneous-probe tiebreak (§8.2). */
const TIEBREAK_WAIT_MS = 1000;
/** Lost tiebreaks in a row before the name counts as taken (§8.1 allows 15 conflicts in 10 s). */
const MAX_TIEBREAK_LOSSES = 10;
const ANNOUNCE_INTERVAL_MS = 1000;
/** §6: a record is multicast at most once a second, except to defend against a probe (250 ms). */
const MULTICAST_MIN_INTERVAL_MS = 1000;
const DEFENCE_MIN_INTERVAL_MS = 250;
/** How long a suggested name is asked about before it is offered. */
const SUGGESTION_CHECK_MS = 500;
/** Names seen in answers on the LAN, remembered so a suggestion avoids them (bounded). */
const SEEN_NAMES_LIMIT = 2000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
const key = (name: string) => name.replace(/\.$/, '').toLowerCase();

export interface NamePublisherOptions {
  onChange: () => void;
  /** Every route name on this Gatehouse: never suggested. */
  reservedNames: () => readonly string[];
}

export class NamePublisher {
  readonly #claims = new Map<string, Claim>();
  readonly #seenNames = new Set<string>();
  readonly #watchers = new Set<(name: string) => void>();
  readonly #unsubscribe: (() => void)[];

  constructor(
    private readonly socket: MdnsSocket,
    private readonly options: NamePublisherOptions,
  ) {
    this.#unsubscribe = [socket.onQuery((packet, from) => this.#onQuery(packet, from)), socket.onResponse((packet, from) => this.#onResponse(packet, from))];
  }

  /** The state of one published name, or null when it is not published. */
  state(name: string): ClaimState | null {
    const claim = this.#claims.get(key(name));
    return claim ? { state: claim.state, addresses: [...claim.addresses], problem: claim.problem, suggestion: claim.suggestion } : null;
  }

  /**
   * Publishes exactly `names` with `addresses`. Dropped names get their goodbye (awaited); new names
   * start probing (not awaited: state() shows the progress); names whose addresses changed are
   * announced again with the new ones (§8.4: no new probe for a name already ours).
   */
  async set(names: readonly NameToPublish[], addresses: readonly string[]): Promise<void> {
    const wanted = new Map(names.map((entry) => [key(entry.name), entry]));
    const goodbyes: Promise<void>[] = [];
    for (const [name, claim] of this.#claims) {
      if (wanted.has(name) && addresses.length > 0) continue;
      claim.generation += 1;
      this.#claims.delete(name);
      if (claim.announced) goodbyes.push(this.#goodbye(claim.announced));
    }
    for (const [name, entry] of wanted) {
      if (addresses.length === 0) break;
      const existing = this.#claims.get(name);
      if (!existing) {
        const claim: Claim = { ...entry, state: 'probing', addresses: [...addresses], problem: null, suggestion: null, generation: 0, lostTiebreak: false, announced: null, lastMulticastAt: 0 };
        this.#claims.set(name, claim);
        void this.#probeAndAnnounce(claim);
        continue;
      }
      existing.routeId = entry.routeId;
      if (sameAddresses(existing.addresses, addresses)) continue;
      existing.addresses = [...addresses];
      if (existing.state === 'probing') void this.#probeAndAnnounce(existing);
      else if (existing.state === 'announced') {
        const stale = (existing.announced ?? []).filter((record) => !addresses.includes(record.data));
        if (stale.length > 0) goodbyes.push(this.#goodbye(stale));
        void this.#announce(existing, ++existing.generation);
      }
    }
    this.options.onChange();
    await Promise.all(goodbyes);
  }

  /** Withdraws every name (goodbyes sent before it resolves) and stops listening. */
  async close(): Promise<void> {
    await this.set([], []);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  #records(claim: Claim, ttl: number, flush: boolean): AddressRecord[] {
    return addressRecords(claim.name, claim.addresses, ttl, flush);
  }

  async #probeAndAnnounce(claim: Claim): Promise<void> {
    const generation = ++claim.generation;
    const current = () => claim.generation === generation && this.#claims.get(key(claim.name)) === claim;
    claim.state = 'probing';
    await sleep(Math.random() * PROBE_INTERVAL_MS);
    for (let losses = 0; ; losses += 1) {
      claim.lostTiebreak = false;
      for (let probe = 0; probe < PROBES && !claim.lostTiebreak; probe += 1) {
        if (!current()) return;
        await this.socket.sendRaw(encodeProbe(claim.name, this.#records(claim, HOST_RECORD_TTL_S, false), probe === 0));
        await sleep(PROBE_INTERVAL_MS);
      }
      if (!current()) return;
      if (!claim.lostTiebreak) break;
      if (losses + 1 >= MAX_TIEBREAK_LOSSES) return this.#conflict(claim, null, null);
      await sleep(TIEBREAK_WAIT_MS);
    }
    await this.#announce(claim, generation);
  }

  async #announce(claim: Claim, generation: number): Promise<void> {
    const current = () => claim.generation === generation && this.#claims.get(key(claim.name)) === claim;
    claim.state = 'announced';
    claim.problem = null;
    claim.suggestion = null;
    this.options.onChange();
    for (let round = 0; round < 2; round += 1) {
      if (round > 0) await sleep(ANNOUNCE_INTERVAL_MS);
      if (!current()) return;
      const records = this.#records(claim, HOST_RECORD_TTL_S, true);
      claim.announced = records;
      claim.lastMulticastAt = Date.now();
      await this.socket.respond({ answers: records, additionals: this.#nsec(claim, records) });
    }
  }

  #goodbye(records: readonly AddressRecord[]): Promise<void> {
    return this.socket.respond({ answers: records.map((record) => ({ ...record, ttl: 0 })) });
  }

  /** §6.1: says which of A/AAAA exist, so a querier for the missing family stops waiting. */
  #nsec(claim: Claim, present: readonly AddressRecord[]): MdnsRecord[] {
    const types = [...new Set(present.map((record) => record.type))];
    if (types.length === 2 || types.length === 0) return [];
    return [{ name: claim.name, type: 'NSEC', ttl: HOST_RECORD_TTL_S, flush: true, data: { nextDomain: claim.name, rrtypes: types } }];
  }

  #onResponse(packet: { answers: MdnsRecord[]; additionals: MdnsRecord[] }, from: Sender): void {
    const records = [...packet.answers, ...packet.additionals];
    for (const record of records) {
      const name = key(record.name);
      if (this.#seenNames.size >= SEEN_NAMES_LIMIT) this.#seenNames.clear();
      this.#seenNames.add(name);
      for (const watcher of this.#watchers) watcher(name);
    }
    for (const claim of this.#claims.values()) {
      if (claim.state === 'conflict') continue;
      const ours = new Set(this.#records(claim, 0, false).map((record) => `${record.type}:${rdata(record).toString('hex')}`));
      const conflicting = addressRecordsIn(records).find(
        (record) => sameName(record.name, claim.name) && record.ttl > 0 && !ours.has(`${record.type}:${rdata(record).toString('hex')}`),
      );
      if (conflicting) void this.#conflict(claim, from, conflicting.data);
    }
  }

  #onQuery(packet: { id?: number; questions: MdnsQuestion[]; answers: MdnsRecord[]; authorities: MdnsRecord[] }, from: Sender): void {
    for (const claim of this.#claims.values()) {
      const asked = packet.questions.filter((question) => asksForAddress(question, claim.name));
      if (asked.length === 0) continue;
      const proposed = addressRecordsIn(packet.authorities).filter((record) => sameName(record.name, claim.name));
      if (claim.state === 'probing' && proposed.length > 0) {
        // Our own probe looped back compares equal; a lower proposal from another host loses to ours.
        if (tiebreak(this.#records(claim, HOST_RECORD_TTL_S, false), proposed) < 0) claim.lostTiebreak = true;
      } else if (claim.state === 'announced') {
        // Our own probe echo never reaches here: once announced, we send no probes.
        void this.#answer(claim, packet, asked, from, proposed.length > 0);
      }
    }
  }

  async #answer(claim: Claim, packet: { id?: number; questions: MdnsQuestion[]; answers: MdnsRecord[] }, asked: MdnsQuestion[], from: Sender, isProbe: boolean): Promise<void> {
    const types = new Set(asked.flatMap((question) => (String(question.type) === 'ANY' ? ['A', 'AAAA'] : [String(question.type)])));
    const legacy = from.port !== MDNS_PORT;
    const all = this.#records(claim, legacy ? LEGACY_TTL_S : HOST_RECORD_TTL_S, !legacy);
    // §7.1: what the querier lists as known, with at least half our TTL left, is not repeated.
    const known = new Set(
      addressRecordsIn(packet.answers)
        .filter((record) => sameName(record.name, claim.name) && record.ttl >= HOST_RECORD_TTL_S / 2)
        .map((record) => `${record.type}:${rdata(record).toString('hex')}`),
    );
    const answers = all.filter((record) => types.has(record.type) && !known.has(`${record.type}:${rdata(record).toString('hex')}`));
    if (legacy) {
      // §6.7: a one-shot resolver (dig) listens on its own port only: reply there, question echoed.
      if (answers.length > 0) await this.socket.respond({ id: packet.id ?? 0, questions: asked, answers }, { address: from.address, port: from.port });
      return;
    }
    const negative = answers.length === 0 && known.size === 0 ? this.#nsec(claim, all) : [];
    if (answers.length === 0 && negative.length === 0) return;
    const additionals = answers.length > 0 ? [...all.filter((record) => !types.has(record.type)), ...this.#nsec(claim, all)] : [];
    const response = { answers: answers.length > 0 ? answers : negative, additionals };
    if (asked.some(wantsUnicast) && !isProbe) {
      await this.socket.respond(response, { address: from.address, port: MDNS_PORT });
      return;
    }
    const since = Date.now() - claim.lastMulticastAt;
    if (since < (isProbe ? DEFENCE_MIN_INTERVAL_MS : MULTICAST_MIN_INTERVAL_MS)) return;
    claim.lastMulticastAt = Date.now();
    await this.socket.respond(response);
  }

  /** Another device answers for the claim's name (`from` null: it kept out-probing us). */
  async #conflict(claim: Claim, from: Sender | null, pointsAt: string | null): Promise<void> {
    claim.generation += 1;
    const withdrawn = claim.announced;
    claim.announced = null;
    claim.state = 'conflict';
    const taken = (candidate: string) => this.#seenNames.has(key(candidate)) || this.options.reservedNames().some((name) => sameName(name, candidate));
    claim.suggestion = suggestName(claim.name, taken);
    claim.problem = conflictProblem(claim.name, from?.address ?? null, pointsAt, claim.suggestion);
    this.options.onChange();
    // Our answers would compete with the holder's: caches drop ours at once.
    if (withdrawn) await this.#goodbye(withdrawn);
    await this.#checkSuggestion(claim, taken);
  }

  /** Asks the LAN about the suggested name; one that gets an answer is replaced by the next. */
  async #checkSuggestion(claim: Claim, taken: (candidate: string) => boolean): Promise<void> {
    for (let attempt = 0; attempt < 3 && claim.suggestion; attempt += 1) {
      const candidate = claim.suggestion;
      const answered = await this.#answeredWithin(candidate, SUGGESTION_CHECK_MS);
      if (!answered || claim.suggestion !== candidate || claim.state !== 'conflict') return;
      claim.suggestion = suggestName(candidate, taken);
      claim.problem = conflictProblem(claim.name, null, null, claim.suggestion, claim.problem);
      this.options.onChange();
    }
  }

  async #answeredWithin(name: string, ms: number): Promise<boolean> {
    let answered = false;
    const watcher = (seen: string) => void (seen === key(name) && (answered = true));
    this.#watchers.add(watcher);
    try {
      await this.socket.query({ questions: [{ name, type: 'A' }, { name, type: 'AAAA' }] });
      await sleep(ms);
      return answered;
    } finally {
      this.#watchers.delete(watcher);
    }
  }
}

function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((address, index) => address === b[index]);
}

/** Who holds the name and what to do. `previous` keeps the holder when only the suggestion changed. */
function conflictProblem(name: string, holder: string | null, pointsAt: string | null, suggestion: string, previous?: Problem | null): Problem {
  const fix = `Rename this route's name to one nobody answers for, such as ${suggestion}. If the other device should not have that name, rename it there, then turn "publish on LAN" off and on again for this route.`;
  if (previous) return { ...previous, fix };
  if (holder === null) {
    return { code: 'name_taken', message: `Another device kept claiming ${name} at the same moment as Gatehouse, so Gatehouse does not publish it.`, fix };
  }
  const target = pointsAt && pointsAt !== holder ? ` (it points the name at ${pointsAt})` : '';
  return { code: 'name_taken', message: `${name} is already answered for on the LAN by ${holder}${target}, so Gatehouse does not publish it.`, fix };
}
