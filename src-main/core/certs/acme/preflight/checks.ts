// Each pre-flight check as a function of what DNS said: one sentence of what was found, one of what
// to do. The wording follows docs/acme-errors.md, so a failed check and the order's failure read alike.
import { randomBytes } from 'node:crypto';
import type { AcmeChallenge, PreflightCheck } from '../../../../../shared/acme.js';
import { caaAllows } from './caa.js';
import { isIP } from 'node:net';
import { probeHttp, type ProbeResult } from './http-probe.js';
import { askCaa, askCname, selfAndParents, type CaaRecord, type DnsAsker, type DnsFailure, type DnsOutcome, type ZoneOutcome } from './public-dns.js';
import { addressKind } from './reachable.js';

/** What public DNS says about one name. */
export interface NameFacts {
  name: string;
  /** The name without "*.". */
  bare: string;
  wildcard: boolean;
  challenge: AcmeChallenge;
  zone: ZoneOutcome;
  addresses: string[];
  cname: string | null;
  /** The zone's servers failed (not "no such record") when asked for the addresses. */
  addressFailure: DnsOutcome<string> | null;
}

const FAILURE_WORDS: Record<DnsFailure, string> = {
  nodata: 'had no such record',
  nxdomain: 'said the name does not exist',
  timeout: 'did not answer in time',
  servfail: 'answered SERVFAIL (server failure)',
  refused: 'refused to answer',
  error: 'gave no usable answer',
};

function check(id: string, label: string, started: number, state: PreflightCheck['state'], message: string, fix: string | null, details: unknown = null): PreflightCheck {
  return { id, label, state, message, fix, details: details === null ? null : typeof details === 'string' ? details : JSON.stringify(details), durationMs: Date.now() - started };
}

function zoneFailure(facts: NameFacts): { message: string; fix: string } | null {
  const { zone, bare } = facts;
  if (zone.ok) return null;
  if (zone.code === 'nxdomain') return { message: `${bare} is not in public DNS: no zone holding it was found.`, fix: `Check the spelling, and that the domain is registered and its name servers are set at the registrar.` };
  return { message: `The public DNS resolvers (${zone.server}) ${FAILURE_WORDS[zone.code]} when asked about ${zone.asked}.`, fix: 'Check that this machine can reach DNS servers on the internet (UDP and TCP port 53), then run the check again.' };
}

export function publicDnsCheck(facts: NameFacts, reachable: (address: string) => boolean, caName: string, started: number): PreflightCheck {
  const { name, bare, zone, addresses } = facts;
  const id = `public-dns:${name}`;
  const label = `${name} resolves in public DNS`;
  if (facts.wildcard && facts.challenge === 'http-01') {
    return check(id, label, started, 'fail', `${name} is a wildcard, and a wildcard can only be validated with the DNS challenge.`, 'Choose the DNS challenge and a DNS provider for this route.');
  }
  const failed = zoneFailure(facts);
  if (failed || !zone.ok) return check(id, label, started, 'fail', failed!.message, failed!.fix, zone);
  const servers = zone.zone.nameServers.join(', ');
  if (facts.challenge === 'dns-01') {
    return check(id, label, started, 'pass', `${bare} is in the public zone ${zone.zone.apex} (name servers ${servers})${addresses.length ? `, pointing to ${addresses.join(', ')}` : '; it needs no address for the DNS challenge'}.`, null, zone.zone);
  }
  if (addresses.length === 0) {
    if (facts.addressFailure && !facts.addressFailure.ok && facts.addressFailure.code !== 'nodata' && facts.addressFailure.code !== 'nxdomain') {
      return check(id, label, started, 'fail', `${zone.zone.apex}'s name servers (${servers}) ${FAILURE_WORDS[facts.addressFailure.code]} when asked for ${bare}.`, `Check at your registrar that ${zone.zone.apex} uses name servers that answer for it, then run the check again.`, facts.addressFailure);
    }
    return check(id, label, started, 'fail', `${bare} has no A or AAAA record in public DNS.`, `Add an A record for ${bare} pointing at your public IP address at your DNS host (${servers}), or use the DNS challenge, which needs none.`, zone.zone);
  }
  const blocked = addresses.filter((address) => !reachable(address));
  if (blocked.length > 0) {
    const first = blocked[0]!;
    const usable = addresses.filter((address) => reachable(address));
    if (usable.length === 0) return check(id, label, started, 'fail', `${bare} points to ${first}, ${addressKind(first)} ${caName} cannot reach.`, `Point ${bare} at your public address, or use the DNS challenge.`, { addresses, nameServers: zone.zone.nameServers });
    return check(id, label, started, 'warn', `${bare} points to ${usable.join(', ')} and also to ${first}, ${addressKind(first)} ${caName} cannot reach.`, `Remove the record for ${first} from public DNS, so the CA only meets ${usable.join(', ')}.`, { addresses, nameServers: zone.zone.nameServers });
  }
  const via = facts.cname ? ` (through ${facts.cname})` : '';
  return check(id, label, started, 'pass', `${bare} points to ${addresses.join(', ')}${via} at its own name servers (${servers}).`, null, { addresses, nameServers: zone.zone.nameServers });
}

/** Same answer per address family both sides have (a machine without IPv6 may see only the A records). */
function agree(mine: string[], theirs: string[]): boolean {
  const family = (list: string[], version: number) => list.filter((address) => isIP(address) === version).join();
  const shared = [4, 6].filter((version) => family(mine, version) !== '' && family(theirs, version) !== '');
  return shared.length > 0 && shared.every((version) => family(mine, version) === family(theirs, version));
}

type SystemAnswer = { ok: true; addresses: string[] } | { ok: false; code: string };

export function splitDnsCheck(facts: NameFacts, system: SystemAnswer, started: number): PreflightCheck {
  const { name, bare, addresses } = facts;
  const id = `split-dns:${name}`;
  const label = `This machine sees ${bare} as public DNS does`;
  const mine = system.ok ? [...new Set(system.addresses)].sort() : [];
  const theirs = [...new Set(addresses)].sort();
  if (theirs.length === 0) {
    if (facts.challenge === 'dns-01' && mine.length > 0) return check(id, label, started, 'pass', `${bare} resolves to ${mine.join(', ')} on this machine only, which is fine for the DNS challenge.`, null);
    return check(id, label, started, 'skipped', `Not compared: public DNS gave no address for ${bare}.`, null);
  }
  if (!system.ok) {
    return check(id, label, started, 'warn', `This machine cannot resolve ${bare} (${system.code}), though public DNS gives ${theirs.join(', ')}.`, 'Fine for the CA, which uses public DNS; LAN clients need a working resolver to reach the name.', system);
  }
  if (agree(mine, theirs)) return check(id, label, started, 'pass', `This machine and public DNS agree: ${bare} is ${theirs.join(', ')}.`, null);
  return check(
    id,
    label,
    started,
    'warn',
    `This machine resolves ${bare} to ${mine.join(', ')} but public DNS says ${theirs.join(', ')}: fine for LAN clients (a Pi-hole or router override), but the CA sees the public one.`,
    'Nothing to do if the override is on purpose; make sure the public address forwards port 80 to this machine (HTTP challenge).',
    { system: mine, public: theirs },
  );
}

export async function caaCheck(name: string, zone: ZoneOutcome, resolvers: DnsAsker, timeoutMs: number, caaIdentities: readonly string[], caName: string, started: number): Promise<PreflightCheck> {
  const id = `caa:${name}`;
  const label = `CAA allows ${caName} to issue for ${name}`;
  if (!zone.ok) return check(id, label, started, 'skipped', 'CAA was not checked: public DNS did not give the zone.', null);
  const bare = name.replace(/^\*\./, '');
  const wildcard = name.startsWith('*.');
  const apex = zone.zone.apex;
  const authoritative: DnsAsker = { servers: zone.zone.servers, timeoutMs };
  // RFC 8659 §3: climb from the name; inside the zone ask its own servers, above it the resolvers.
  for (const candidate of selfAndParents(bare)) {
    const inZone = candidate === apex || candidate.endsWith(`.${apex}`);
    const found: DnsOutcome<CaaRecord> = await askCaa(inZone ? authoritative : resolvers, candidate);
    if (!found.ok) {
      if (found.code === 'nodata' || found.code === 'nxdomain') continue;
      return check(id, label, started, 'fail', `The name servers (${found.server}) ${FAILURE_WORDS[found.code]} when asked for ${candidate}'s CAA records, and ${caName} refuses to issue when that happens.`, `Check that ${apex}'s name servers answer CAA questions (some old DNS hosts fail them), then run the check again.`, found);
    }
    if (found.values.length === 0) continue;
    const records = found.values.map((record) => `${record.critical} ${record.tag} "${record.value}"`);
    if (caaIdentities.length === 0) {
      return check(id, label, started, 'warn', `${candidate} has CAA records, and ${caName} does not say which CAA name it goes by, so they could not be checked.`, `Make sure ${candidate}'s CAA records name your CA (its documentation gives the name to use).`, records);
    }
    const verdict = caaAllows(found.values, caaIdentities, wildcard);
    if (verdict.allowed) return check(id, label, started, 'pass', `${candidate}'s CAA records allow ${caName} (${caaIdentities.join(', ')}).`, null, records);
    const want = `0 ${verdict.tag} "${caaIdentities[0]}"`;
    if (verdict.reason === 'critical-unknown') {
      return check(id, label, started, 'fail', `${candidate}'s CAA record has a critical property "${verdict.unknownTag}" no CA knows, so ${caName} may not issue.`, `Remove that record or clear its critical flag (128), at your DNS host.`, records);
    }
    const allows = verdict.allows.length ? `allows only ${verdict.allows.join(', ')}` : 'allows no CA';
    return check(id, label, started, 'fail', `${candidate}'s CAA ${verdict.tag === 'issuewild' ? 'issuewild ' : ''}record ${allows}, so ${caName} may not issue${wildcard ? ' the wildcard' : ''}.`, `Add ${want} for ${candidate} at your DNS host.`, records);
  }
  return check(id, label, started, 'pass', `No CAA records on ${bare} or its parents: any CA may issue.`, null);
}

export interface ProbeDeps {
  httpPort: number;
  challenges: { add(token: string, keyAuthorization: string): () => void };
  reachable: (address: string) => boolean;
  probeTimeoutMs: number;
  localAddresses?: readonly string[];
}

type Verdict = { state: PreflightCheck['state']; message: string; fix: string | null };

function probeVerdict(address: string, port: number, result: ProbeResult, localAddresses: readonly string[] | undefined): Verdict {
  const here = localAddresses?.length ? ` (${localAddresses.join(', ')})` : '';
  switch (result.kind) {
    case 'answered':
      if (result.ok) return { state: 'pass', message: `Gatehouse answered a test challenge at ${address} port ${port}, as the CA will ask.`, fix: null };
      return { state: 'fail', message: `Another server answered at ${address} port ${port} (${result.server ? `${result.server}, ` : ''}${result.status}), not Gatehouse.`, fix: `Forward port ${port} to this machine${here}, not to ${result.server ?? 'that server'}.` };
    case 'refused':
      return { state: 'fail', message: `Port ${port} on ${address} is closed.`, fix: `Forward port ${port} on your router to this machine${here}, and allow it in the firewall.` };
    case 'timeout':
      return { state: 'warn', message: `Port ${port} on ${address} did not answer from here: a firewall, or a router without hairpin NAT.`, fix: `The CA may still reach it from outside; if the order fails, forward port ${port} to this machine or use the DNS challenge.` };
    default:
      return { state: 'fail', message: `The test request to ${address} port ${port} failed (${result.code}).`, fix: `Forward port ${port} to this machine, or use the DNS challenge.` };
  }
}

const SEVERITY: Record<PreflightCheck['state'], number> = { fail: 3, warn: 2, skipped: 1, pass: 0 };

export async function httpProbeCheck(facts: NameFacts, deps: ProbeDeps, started: number): Promise<PreflightCheck> {
  const { name, bare } = facts;
  const id = `http-probe:${name}`;
  const port = deps.httpPort;
  const label = `Port ${port} on ${name}'s public address reaches Gatehouse`;
  if (facts.wildcard) return check(id, label, started, 'skipped', 'Not probed: a wildcard has no address to probe.', null);
  // One address per family: Let's Encrypt tries IPv6 first when there is an AAAA record, so both count.
  const targets = [4, 6].map((family) => facts.addresses.find((address) => isIP(address) === family && deps.reachable(address))).filter((address): address is string => address !== undefined);
  if (targets.length === 0) return check(id, label, started, 'skipped', `Not probed: public DNS gives no address the CA could reach for ${bare}.`, null);
  const token = `gatehouse-preflight-${randomBytes(12).toString('base64url')}`;
  const body = `${token}.${randomBytes(16).toString('base64url')}`;
  const remove = deps.challenges.add(token, body);
  try {
    const results = await Promise.all(targets.map(async (address) => ({ address, result: await probeHttp(address, port, bare, token, body, deps.probeTimeoutMs) })));
    // Without an IPv6 route here, the IPv6 address cannot be tried from this machine: that says nothing of the CA.
    const tried = results.filter(({ address, result }) => !(isIP(address) === 6 && result.kind === 'error' && /ENETUNREACH|EHOSTUNREACH|EADDRNOTAVAIL/.test(result.code)));
    if (tried.length === 0) return check(id, label, started, 'skipped', `Not probed: this machine has no IPv6 route to try ${targets.join(', ')}.`, null, results);
    const verdicts = tried.map(({ address, result }) => ({ address, ...probeVerdict(address, port, result, deps.localAddresses) }));
    const worst = verdicts.reduce((a, b) => (SEVERITY[b.state] > SEVERITY[a.state] ? b : a));
    const v4Passed = verdicts.some((verdict) => isIP(verdict.address) === 4 && verdict.state === 'pass');
    const fix = worst.state !== 'pass' && isIP(worst.address) === 6 && v4Passed ? `${worst.fix} Or remove the AAAA record for ${bare}: IPv4 works, and the CA tries IPv6 first.` : worst.fix;
    return check(id, label, started, worst.state, worst.message, fix, results);
  } finally {
    remove();
  }
}

export async function acmeDnsCnameCheck(bare: string, fulldomain: string, zone: ZoneOutcome, timeoutMs: number, started: number): Promise<PreflightCheck> {
  const record = `_acme-challenge.${bare}`;
  const id = `acme-dns-cname:${bare}`;
  const label = `${record} points to acme-dns`;
  if (!zone.ok) return check(id, label, started, 'skipped', 'Not checked: public DNS did not give the zone.', null);
  const want = fulldomain.replace(/\.$/, '').toLowerCase();
  const found = await askCname({ servers: zone.zone.servers, timeoutMs }, record);
  const target = found.ok ? (found.values[0] ?? '').replace(/\.$/, '').toLowerCase() : null;
  if (target === want) return check(id, label, started, 'pass', `${record} is a CNAME to ${want}.`, null);
  const now = target ? `is a CNAME to ${target}` : found.ok || found.code === 'nodata' || found.code === 'nxdomain' ? 'has no CNAME' : FAILURE_WORDS[found.code];
  return check(id, label, started, 'fail', `${record} ${now}, so the CA will not see acme-dns's record.`, `Add a CNAME record ${record} → ${want} at your DNS host.`, found);
}
