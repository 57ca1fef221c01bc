// The doctor's first step: does each of the route's names lead to this machine? Asked the ways a
// device would ask: this machine's own resolver (getaddrinfo, which also reads the hosts file), mDNS
// for `.local` names (whether Gatehouse publishes the name, and in what state), and public DNS for
// names under a public suffix (through the same resolvers the ACME pre-flight uses, so
// GATEHOUSE_DNS_SERVER points both at one server). Every name is checked in parallel, and every
// question has its own timeout: a DNS server that never answers becomes a failure that says so.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { DoctorCheck } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';
import type { DiscoveryOverview, PublishedName } from '../../../shared/status.js';
import { askA, askAaaa, type DnsOutcome } from '../certs/acme/preflight/public-dns.js';
import { isPubliclyReachable } from '../certs/acme/preflight/reachable.js';
import { listText, secondsText, within } from './doctor.js';

/** Per DNS question, ms. Default: 1800. */
export const DNS_TIMEOUT_MS = 1800;
/** Names checked at most (a route may have 100); the rest are named as not checked. */
const MAX_NAMES = 8;
/** The label tried below a wildcard: any name there reaches the route. */
export const WILDCARD_SAMPLE_LABEL = 'doctor-check';

/** Names that never live in public DNS (RFC 6761, RFC 8375, RFC 6762, and the home-network habits). */
const PRIVATE_SUFFIXES = ['local', 'localhost', 'lan', 'home', 'internal', 'intranet', 'corp', 'private', 'home.arpa', 'test', 'invalid', 'example', 'localdomain'];

export interface DoctorDnsDeps {
  /** This machine's own answer for a name. Default: getaddrinfo (dns.lookup, hosts file included). */
  systemLookup?: (name: string) => Promise<string[]>;
  /** Public resolvers ("ip" or "ip:port"); the pre-flight's, or GATEHOUSE_DNS_SERVER's one server. */
  publicResolvers: readonly string[];
  /** This machine's LAN addresses (the ones to point records at), for the sentences. */
  lanAddresses: () => string[];
  /** Whether an address is this machine's; default: any interface address or loopback. */
  isOwnAddress?: (address: string) => boolean;
  /** mDNS as the discovery overview says it: its state and each published name. */
  discovery: () => Pick<DiscoveryOverview, 'state' | 'problem' | 'published'>;
  timeoutMs?: number;
}

/** Whether `name` is under a public suffix, so public DNS should know it. */
export function isPublicName(name: string): boolean {
  const bare = name.replace(/^\*\./, '').toLowerCase();
  if (!bare.includes('.')) return false;
  return !PRIVATE_SUFFIXES.some((suffix) => bare === suffix || bare.endsWith(`.${suffix}`));
}

/** Any address of this machine's interfaces, 127.0.0.0/8, ::1 (and their IPv4-mapped forms). */
export function isThisMachine(address: string): boolean {
  const plain = address.replace(/^::ffff:(?=\d+\.)/i, '').toLowerCase();
  if (/^127\./.test(plain) || plain === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((info) => info.address.toLowerCase() === plain));
}

const isLoopback = (address: string) => /^(::ffff:)?127\./i.test(address) || address === '::1';

/** The name to ask for: the name itself, or a sample label under a wildcard. */
export function askedName(name: string): string {
  return name.startsWith('*.') ? `${WILDCARD_SAMPLE_LABEL}.${name.slice(2)}` : name;
}

async function getaddrinfo(name: string): Promise<string[]> {
  return (await lookup(name, { all: true, verbatim: true })).map((entry) => entry.address);
}

/**
 * getaddrinfo runs on libuv's small thread pool (4 threads, shared with every file write) and cannot
 * be cancelled: against a dead DNS server each lookup holds a thread for the resolver's own timeouts
 * (10 s and more). So the doctor runs at most MAX_SYSTEM_LOOKUPS at once in the whole process, and a
 * lookup still waiting is shared by later asks for the same name. A name left waiting for a slot is
 * reported as not answered by the per-check timeout, like the lookups ahead of it.
 */
const MAX_SYSTEM_LOOKUPS = 2;
const systemInFlight = new Map<string, Promise<string[]>>();
let lookupsRunning = 0;
const waitingForSlot: (() => void)[] = [];

async function inSlot<T>(task: () => Promise<T>): Promise<T> {
  if (lookupsRunning >= MAX_SYSTEM_LOOKUPS) await new Promise<void>((resolve) => waitingForSlot.push(resolve));
  lookupsRunning++;
  try {
    return await task();
  } finally {
    lookupsRunning--;
    waitingForSlot.shift()?.();
  }
}

function sharedLookup(lookupFn: (name: string) => Promise<string[]>, name: string): Promise<string[]> {
  let pending = systemInFlight.get(name);
  if (!pending) {
    pending = inSlot(() => lookupFn(name)).finally(() => systemInFlight.delete(name));
    systemInFlight.set(name, pending);
  }
  return pending;
}

function pointHere(lan: readonly string[]): string {
  return lan.length > 0 ? listText(lan.filter((address) => isIP(address) === 4).slice(0, 1).concat(lan.filter((address) => isIP(address) === 6).slice(0, 1))) : "this machine's LAN address";
}

interface Judged {
  state: DoctorCheck['state'];
  says: string;
  fix: string | null;
}

/** Whether the addresses a name resolved to are this machine's, in words. */
function judgeAddresses(name: string, addresses: readonly string[], where: string, deps: DoctorDnsDeps, isOwn: (address: string) => boolean): Judged {
  const lan = deps.lanAddresses();
  const own = addresses.filter(isOwn);
  const other = addresses.filter((address) => !isOwn(address));
  const here = pointHere(lan);
  const recordFix = `Change the record for ${name} to ${here}: in your router's DNS settings, the Pi-hole's Local DNS records (or AdGuard Home's DNS rewrites), or the hosts file of the devices that use it.`;
  if (other.length === 0) {
    // 127.0.0.1 (a hosts-file line, a record made for testing) is this machine for itself only.
    if (own.every(isLoopback) && lan.length > 0) {
      return {
        state: 'warn',
        says: `${where} ${name} to ${listText(own)}: this machine, but a loopback address, so it works only on this machine; other devices would knock on themselves.`,
        fix: `Point ${name} at ${here} instead (router DNS, Pi-hole Local DNS records, or the hosts files), so other devices reach it too.`,
      };
    }
    return { state: 'pass', says: `${where} ${name} to ${listText(own)}: this machine.`, fix: null };
  }
  const privateOthers = other.filter((address) => !isPubliclyReachable(address));
  if (own.length > 0) {
    return {
      state: 'warn',
      says: `${where} ${name} to ${listText(own)} (this machine) but also to ${listText(other)}, which is not: some devices will try the other address.`,
      fix: `Remove the record pointing ${name} at ${listText(other)}, or make it ${here}.`,
    };
  }
  if (privateOthers.length > 0) {
    return {
      state: 'fail',
      says: `${where} ${name} to ${listText(other)}, which is not this machine${lan.length > 0 ? ` (this machine is ${listText(lan.slice(0, 2))})` : ''}: requests go to another device.`,
      fix: recordFix,
    };
  }
  return {
    state: 'warn',
    says: `${where} ${name} to ${listText(other)}, an internet address. If that is your router's and it forwards ports 80 and 443 to this machine, visitors from the internet get here; devices at home need the router to loop back (NAT hairpinning) or a local record.`,
    fix: `For devices at home, add a local DNS record for ${name} pointing to ${here} (router DNS, Pi-hole Local DNS records, or hosts file).`,
  };
}

async function systemCheck(name: string, asked: string, deps: DoctorDnsDeps, isOwn: (address: string) => boolean): Promise<DoctorCheck> {
  const started = Date.now();
  const timeoutMs = deps.timeoutMs ?? DNS_TIMEOUT_MS;
  const base = { id: `dns:${name}:system`, step: 'dns' as const, title: `This machine resolves ${asked}` };
  type Answer = { ok: true; addresses: string[] } | { ok: false; code: string };
  const answer = await within<Answer>(
    sharedLookup(deps.systemLookup ?? getaddrinfo, asked).then(
      (addresses) => ({ ok: true, addresses }),
      (error: NodeJS.ErrnoException) => ({ ok: false, code: error.code ?? 'ERROR' }),
    ),
    timeoutMs,
    () => ({ ok: false, code: 'TIMEOUT' }),
  );
  const durationMs = Date.now() - started;
  const here = pointHere(deps.lanAddresses());
  if (answer.ok && answer.addresses.length > 0) return { ...base, ...judgeAddresses(asked, answer.addresses, "This machine's resolver sends", deps, isOwn), durationMs };
  if (!answer.ok && ['TIMEOUT', 'EAI_AGAIN', 'ETIMEOUT', 'ETIMEDOUT', 'ECONNREFUSED'].includes(answer.code)) {
    return {
      ...base,
      state: 'fail',
      says: `The DNS server this machine uses did not answer for ${asked} within ${secondsText(timeoutMs)} s.`,
      fix: 'Check the DNS server in this machine\'s network settings (usually the router or a Pi-hole): is it on and reachable? Then run the doctor again.',
      durationMs,
    };
  }
  const publicName = isPublicName(name);
  return {
    ...base,
    state: 'fail',
    says: `This machine cannot resolve ${asked}: no DNS server it asks (nor its hosts file) knows the name${answer.ok ? '' : ` (${answer.code})`}.`,
    fix: publicName
      ? `Add an A record for ${name} at the DNS provider of its domain (or a local record in the router or Pi-hole) pointing to ${here}.`
      : `Add a local DNS record for ${name} pointing to ${here}: in your router's DNS settings or the Pi-hole's Local DNS records, or add the line "${deps.lanAddresses()[0] ?? 'LAN-ADDRESS'} ${asked}" to the hosts file of each device.`,
    durationMs,
  };
}

function publicFailure(outcome: Extract<DnsOutcome<string>, { ok: false }>, asked: string, timeoutMs: number): Judged {
  switch (outcome.code) {
    case 'nxdomain':
      return {
        state: 'fail',
        says: `Public DNS (${outcome.server}) says ${asked} does not exist (NXDOMAIN).`,
        fix: `Create an A record for ${asked} at the DNS provider that hosts its domain: your router's internet address (with ports 80 and 443 forwarded to this machine) for visitors from the internet, or this machine's LAN address for home use only.`,
      };
    case 'nodata':
      return { state: 'fail', says: `${asked} exists in public DNS but has no A or AAAA record, so it leads nowhere.`, fix: `Add an A record for ${asked} at the DNS provider of its domain.` };
    case 'timeout':
      return {
        state: 'fail',
        says: `The DNS server ${outcome.server} did not answer for ${asked} within ${secondsText(timeoutMs)} s.`,
        fix: 'Check that this machine can reach DNS servers (UDP and TCP port 53 out), then run the doctor again.',
      };
    default:
      return { state: 'fail', says: `Public DNS (${outcome.server}) could not answer for ${asked} (${outcome.code.toUpperCase()}).`, fix: `Check the DNS zone of ${asked} at its DNS provider.` };
  }
}

async function publicCheck(name: string, asked: string, deps: DoctorDnsDeps, isOwn: (address: string) => boolean): Promise<DoctorCheck> {
  const started = Date.now();
  const timeoutMs = deps.timeoutMs ?? DNS_TIMEOUT_MS;
  const asker = { servers: [...deps.publicResolvers], timeoutMs };
  const [a, aaaa] = await Promise.all([askA(asker, asked), askAaaa(asker, asked)]);
  const base = { id: `dns:${name}:public`, step: 'dns' as const, title: `Public DNS knows ${asked}`, durationMs: Date.now() - started };
  const addresses = [...(a.ok ? a.values : []), ...(aaaa.ok ? aaaa.values : [])];
  if (addresses.length > 0) return { ...base, ...judgeAddresses(asked, addresses, 'Public DNS sends', deps, isOwn) };
  // The A answer says most; a timeout on either says the server is the problem.
  const failure = !a.ok && a.code === 'timeout' ? a : !aaaa.ok && aaaa.code === 'timeout' ? aaaa : !a.ok ? a : aaaa.ok ? null : aaaa;
  if (!failure) return { ...base, state: 'fail', says: `Public DNS has ${asked} but no address for it.`, fix: `Add an A record for ${asked}.` };
  return { ...base, ...publicFailure(failure, asked, timeoutMs) };
}

function mdnsCheck(route: Route, name: string, deps: DoctorDnsDeps): DoctorCheck {
  const base = { id: `dns:${name}:mdns`, step: 'dns' as const, title: `Devices on the LAN find ${name} (mDNS)`, durationMs: 0 };
  if (name.startsWith('*.')) {
    return { ...base, state: 'warn', says: `mDNS answers only for exact names; no device will find names under ${name} that way.`, fix: 'Add the exact .local names the route should answer to, or use a DNS server with a wildcard record.' };
  }
  if (!route.publishOnLan) {
    return {
      ...base,
      state: 'fail',
      says: `Gatehouse does not publish ${name} on the LAN (Publish on LAN is off for this route), so devices find it only if something else answers for it.`,
      fix: 'Turn on "Publish on LAN" in the route\'s settings, so Gatehouse answers mDNS queries for it.',
    };
  }
  const overview = deps.discovery();
  const published: PublishedName | undefined = overview.published.find((entry) => entry.routeId === route.id && entry.name === name);
  if (!published) return { ...base, state: 'fail', says: `${name} is not among the names Gatehouse publishes.`, fix: 'Save the route again with "Publish on LAN" on.' };
  const warning = published.warning;
  switch (published.state) {
    case 'announced':
      return warning
        ? { ...base, state: 'warn', says: `Gatehouse answers for ${name} with ${listText(published.addresses)}, but ${warning}.`, fix: `Use a single-label name such as ${name.split('.')[0]}.local.` }
        : { ...base, state: 'pass', says: `Gatehouse answers for ${name} on the LAN with ${listText(published.addresses)}.`, fix: null };
    case 'probing':
      return { ...base, state: 'warn', says: `Gatehouse is still checking that no other device holds ${name}; it answers in about a second.`, fix: 'Run the doctor again in a moment.' };
    case 'conflict':
      return {
        ...base,
        state: 'fail',
        says: published.problem?.message ?? `Another device on the LAN already answers for ${name}.`,
        fix: published.problem?.fix ?? (published.suggestion ? `Rename the route's name to ${published.suggestion}.` : 'Choose another .local name.'),
      };
    case 'stopped':
      return { ...base, state: 'fail', says: `Gatehouse does not answer for ${name} now: ${published.problem?.message ?? 'mDNS is off'}`, fix: published.problem?.fix ?? 'Turn on mDNS in Settings.' };
  }
}

/** The DNS step's checks for every name of the route, all asked in parallel. */
export async function dnsChecks(route: Route, deps: DoctorDnsDeps): Promise<DoctorCheck[]> {
  const isOwn = deps.isOwnAddress ?? isThisMachine;
  const names = route.names.slice(0, MAX_NAMES);
  const checks = names.map((name): Promise<DoctorCheck[]> => {
    const asked = askedName(name);
    if (name.endsWith('.local')) return Promise.resolve([mdnsCheck(route, name, deps)]);
    const list = [systemCheck(name, asked, deps, isOwn)];
    if (isPublicName(name)) list.push(publicCheck(name, asked, deps, isOwn));
    return Promise.all(list);
  });
  const all = (await Promise.all(checks)).flat();
  if (route.names.length > MAX_NAMES) {
    all.push({ id: 'dns:more', step: 'dns', title: 'The route\'s other names', state: 'skipped', says: `The first ${MAX_NAMES} names were checked; ${route.names.length - MAX_NAMES} more were not.`, fix: null, durationMs: 0 });
  }
  return all;
}
