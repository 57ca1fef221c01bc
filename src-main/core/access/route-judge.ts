// One route's access rules, compiled: the route's access lists merged into one first-match table,
// its exposure, its country rules, and the reputation check, judged in the documented order
// (shared/access.ts). The request path and "would this address get in" run the same `judge`; the
// latter passes a `steps` array to be told each step, the former passes null and allocates nothing
// for an address that gets in.
import type { AccessEntry, AccessList, AccessStep, RouteAccess } from '../../../shared/access.js';
import { ProxyError } from '../proxy/errors.js';
import type { CountryDatabase } from './countries.js';
import { parseAddress, RangeTable, type Family } from './ip-ranges.js';
import type { Reputation } from './reputation.js';
import type { ThisNetwork } from './this-network.js';

/** An access list, compiled once per settings change. */
export interface CompiledList {
  readonly id: string;
  readonly name: string;
  readonly entries: readonly AccessEntry[];
  /** Each entry as the log names it: `list "Family": deny 203.0.113.0/24 (office)`. */
  readonly rules: readonly string[];
  readonly table: RangeTable;
}

export function compileList(list: AccessList): CompiledList {
  let table: RangeTable;
  try {
    table = new RangeTable(list.entries.map((entry) => entry.range));
  } catch (error) {
    throw new Error(`access list "${list.name}": ${(error as Error).message}`);
  }
  return {
    id: list.id,
    name: list.name,
    entries: list.entries,
    rules: list.entries.map((entry) => `list "${list.name}": ${entry.action} ${entry.range}${entry.note ? ` (${entry.note})` : ''}`),
    table,
  };
}

/** What the judge needs besides the route: shared by every route. */
export interface JudgeDeps {
  readonly thisNetwork: ThisNetwork;
  readonly countries: CountryDatabase;
  readonly reputation: Reputation;
  /** settings.crowdsec.applyToLan: CrowdSec bans refuse this machine's own networks too. */
  crowdsecAppliesToLan(): boolean;
  /**
   * Whether `address` is on this machine's own networks (loopback and its interfaces' subnets):
   * the owner, whom bans leave alone. Narrower than "this network" (every private range), as the
   * limits and the scanner list count it: a device on another private subnet can still be banned.
   */
  isOwnNetwork(address: string): boolean;
}

/** The country database is not read yet: read it (CountryDatabase.load) and judge again. */
export const NEEDS_COUNTRIES = Symbol('needs the country database');

/**
 * null: on to the next pass; a string: an access-list entry let it in (the rule, for the log);
 * a ProxyError: refused; NEEDS_COUNTRIES: ask again once the database is read.
 */
export type Judgement = null | string | ProxyError | typeof NEEDS_COUNTRIES;

/** The address being judged, parsed (its own array: a ban source may parse addresses too). */
const WORDS = new Uint32Array(4);

const STEPS_AFTER_LISTS = ['exposure', 'country', 'reputation'] as const;

function skipRest(steps: AccessStep[] | null, after: AccessStep['step'], reason: string): void {
  if (!steps) return;
  for (const step of STEPS_AFTER_LISTS.slice(STEPS_AFTER_LISTS.indexOf(after as (typeof STEPS_AFTER_LISTS)[number]) + 1)) {
    steps.push({ step, outcome: 'skip', rule: null, reason });
  }
}

/** `address` as the ban tables key it: IPv4-mapped IPv6 as IPv4, no zone. */
function plainAddress(address: string, family: Family, words: Uint32Array): string {
  if (family === 4 && address.indexOf(':') !== -1) {
    const v4 = words[0] as number;
    return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
  }
  const zone = address.indexOf('%');
  return zone === -1 ? address : address.slice(0, zone);
}

export class RouteJudge {
  /** The route's lists merged, in order: position i decides as `decisions[i]`. */
  private readonly table: RangeTable | null;
  private readonly decisions: { allow: boolean; rule: string; list: CompiledList; entry: AccessEntry; refusal: ProxyError | null }[] = [];
  private readonly lists: readonly CompiledList[];
  private readonly lanOnly: boolean;
  private readonly countryMode: RouteAccess['countries']['mode'];
  private readonly countries: ReadonlySet<string>;
  private readonly countryText: string;
  /**
   * Refusals made once and answered to every request they fit (a ProxyError captures a stack: ~6 µs):
   * a flood of refused requests costs no allocation here. The log names the client beside them.
   */
  private readonly lanOnlyRefusal = new ProxyError(
    'lan_only',
    "The client is not on this machine's networks, and the route is open to this network only. To let it in, allow its address in an access list on the route, or open the route to anyone.",
    { rule: 'exposure: this network only' },
  );
  /** By country code ("" for none known); at most one per country. */
  private readonly countryRefusals = new Map<string, ProxyError>();

  constructor(
    access: Pick<RouteAccess, 'exposure' | 'countries'>,
    /** The route's lists, in the order attached (ids with no list are left out by the caller). */
    lists: readonly CompiledList[],
    private readonly deps: JudgeDeps,
  ) {
    this.lists = lists;
    const ranges: string[] = [];
    for (const list of lists) {
      list.entries.forEach((entry, i) => {
        ranges.push(entry.range);
        this.decisions.push({ allow: entry.action === 'allow', rule: list.rules[i] as string, list, entry, refusal: null });
      });
    }
    // One list is used as compiled; several are merged (the first entry of the first list wins).
    this.table = lists.length === 1 ? (lists[0] as CompiledList).table : ranges.length > 0 ? new RangeTable(ranges) : null;
    this.lanOnly = access.exposure === 'lan';
    this.countryMode = access.countries.mode;
    this.countries = new Set(access.countries.countries);
    this.countryText = access.countries.countries.join(', ');
  }

  /** Whether judging needs the country database (it is read before the first such request). */
  get usesCountries(): boolean {
    return this.countryMode !== 'off';
  }

  /**
   * Judges `address` (the client's real address) in the documented order. With `steps`, each step
   * is recorded there, the ones not reached as "skip". `outsider`: the request came through a proxy
   * nobody listed (PassRequest.viaUnknownProxy), so whatever `address` is, it is judged as outside
   * this network and this machine's own networks; the lists still see the address itself.
   */
  judge(address: string, steps: AccessStep[] | null, outsider = false): Judgement {
    const words = WORDS;
    const family = parseAddress(address, words);

    // 1. The access lists: the first entry that holds the address decides.
    const at = this.table ? this.table.lookupParsed(family, words) : -1;
    if (steps) this.traceLists(steps, address, at);
    if (at !== -1) {
      const decision = this.decisions[at] as (typeof this.decisions)[number];
      if (steps) skipRest(steps, 'list', `the access list "${decision.list.name}" decided`);
      if (decision.allow) return decision.rule;
      decision.refusal ??= new ProxyError(
        'access_denied',
        `Refused by the access list "${decision.list.name}" (deny ${decision.entry.range}${decision.entry.note ? `, ${decision.entry.note}` : ''}).`,
        { rule: decision.rule },
      );
      return decision.refusal;
    }

    // 2. Exposure. `lan` is worked out once, and only when a step needs it.
    let lan: boolean | null = null;
    if (this.lanOnly) {
      lan = !outsider && this.deps.thisNetwork.hasParsed(address, family, words);
      if (!lan) {
        if (steps) steps.push({ step: 'exposure', outcome: 'deny', rule: 'exposure: this network only', reason: `${address} is not on this network, and the route is open to this network only` });
        skipRest(steps, 'exposure', 'refused by the exposure');
        return this.lanOnlyRefusal;
      }
      if (steps) steps.push({ step: 'exposure', outcome: 'continue', rule: 'exposure: this network only', reason: `${address} is on this network` });
    } else if (steps) {
      steps.push({ step: 'exposure', outcome: 'continue', rule: 'exposure: anyone', reason: 'the route is open to anyone' });
    }

    // 3. Country rules, for addresses outside this network.
    if (this.countryMode === 'off') {
      if (steps) steps.push({ step: 'country', outcome: 'skip', rule: null, reason: 'no country rules on this route' });
    } else {
      lan ??= !outsider && this.deps.thisNetwork.hasParsed(address, family, words);
      if (lan) {
        if (steps) steps.push({ step: 'country', outcome: 'skip', rule: null, reason: 'addresses on this network have no country' });
      } else {
        const refusal = this.judgeCountry(address, family, words, steps);
        if (refusal !== null) return refusal;
      }
    }

    // 4. Reputation: CrowdSec and scanner bans.
    const ban = this.deps.reputation.banned(plainAddress(address, family, words));
    if (!ban) {
      if (steps) steps.push({ step: 'reputation', outcome: 'continue', rule: null, reason: 'not banned' });
      return null;
    }
    const by = ban.source === 'crowdsec' ? 'CrowdSec' : 'the scanner list';
    const until = ban.until === null ? '' : ` until ${new Date(ban.until).toISOString()}`;
    if ((ban.source === 'scanner' || !this.deps.crowdsecAppliesToLan()) && !outsider && this.deps.isOwnNetwork(address)) {
      if (steps) steps.push({ step: 'reputation', outcome: 'continue', rule: null, reason: `banned by ${by} (${ban.reason}), but this machine's own networks are never refused for it` });
      return null;
    }
    const rule = `${ban.source}: ban (${ban.reason})`;
    if (steps) steps.push({ step: 'reputation', outcome: 'deny', rule, reason: `banned by ${by} (${ban.reason})${until}` });
    return new ProxyError('banned', `${address} is banned by ${by} (${ban.reason})${until}.`, { rule });
  }

  /** Step 3 for an address outside this network: null to go on, or the refusal. */
  private judgeCountry(address: string, family: Family, words: Uint32Array, steps: AccessStep[] | null): ProxyError | typeof NEEDS_COUNTRIES | null {
    const database = this.deps.countries;
    if (database.state === 'failed') {
      // Fail closed: a rule that cannot be checked must not open the door (this network is unaffected).
      const rule = 'country: database unavailable';
      if (steps) steps.push({ step: 'country', outcome: 'deny', rule, reason: `${database.failure}; addresses outside this network are refused until it is` });
      return new ProxyError('country_denied', `${address} was refused because ${database.failure}.`, { rule });
    }
    if (database.state !== 'ready') return NEEDS_COUNTRIES;
    const country = database.lookup(plainAddress(address, family, words));
    const listed = country !== null && this.countries.has(country);
    // In allow mode an address with no known country is refused: only what is listed gets in.
    const admitted = this.countryMode === 'allow' ? listed : !listed;
    const named = country ?? 'unknown';
    if (admitted) {
      if (steps) {
        const reason = this.countryMode === 'allow' ? `${address} is in ${named}, which is allowed` : country === null ? `no country is known for ${address}, and only ${this.countryText} are refused` : `${address} is in ${named}, which is not refused`;
        steps.push({ step: 'country', outcome: 'continue', rule: `country: ${named}`, reason });
      }
      return null;
    }
    let refusal = this.countryRefusals.get(country ?? '');
    if (!refusal) {
      const rule = this.countryMode === 'allow' ? `country: ${named} not in allowed ${this.countryText}` : `country: ${named} in denied ${this.countryText}`;
      const why =
        this.countryMode === 'allow'
          ? country === null
            ? `No country is known for the client's address, and only ${this.countryText} are allowed.`
            : `The client is in ${country}, and only ${this.countryText} are allowed.`
          : `The client is in ${country}, which is refused.`;
      refusal = new ProxyError('country_denied', why, { rule });
      this.countryRefusals.set(country ?? '', refusal);
    }
    if (steps) {
      const reason =
        this.countryMode === 'allow'
          ? country === null
            ? `no country is known for ${address}, and only ${this.countryText} are allowed`
            : `${address} is in ${country}, and only ${this.countryText} are allowed`
          : `${address} is in ${country}, which is refused`;
      steps.push({ step: 'country', outcome: 'deny', rule: refusal.refusal?.rule ?? null, reason });
      skipRest(steps, 'country', 'refused by a country rule');
    }
    return refusal;
  }

  /** The list steps: one per attached list, or one "skip" when there is none. */
  private traceLists(steps: AccessStep[], address: string, at: number): void {
    if (this.lists.length === 0) {
      steps.push({ step: 'list', outcome: 'skip', rule: null, reason: 'no access list on this route' });
      return;
    }
    const decided = at === -1 ? null : (this.decisions[at] as (typeof this.decisions)[number]);
    let passed = true;
    for (const list of this.lists) {
      if (!passed) {
        steps.push({ step: 'list', outcome: 'skip', rule: null, reason: `an earlier list decided` });
      } else if (decided && decided.list === list) {
        passed = false;
        steps.push({
          step: 'list',
          outcome: decided.allow ? 'allow' : 'deny',
          rule: decided.rule,
          reason: decided.allow
            ? `"${list.name}" allows ${decided.entry.range}: no exposure, country or ban check is asked`
            : `"${list.name}" refuses ${decided.entry.range}`,
        });
      } else {
        steps.push({ step: 'list', outcome: 'continue', rule: null, reason: `no entry of "${list.name}" holds ${address}` });
      }
    }
  }
}
