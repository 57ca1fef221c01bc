// ACME certificates Gatehouse holds: stored in DATA_DIR/acme/certificates/<route folder>/ (key.pem
// 0600, cert.pem with its chain, order.json saying what it was ordered for), loaded at start, and
// how a route's ACME side looks through the API (RouteCertificate with AcmeRouteState).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { AcmeProblem, AcmeRenewal, AcmeRouteState, PreflightReport } from '../../../../shared/acme.js';
import type { Route } from '../../../../shared/model.js';
import type { Problem, RouteCertificate } from '../../../../shared/status.js';
import { writeFileDurably } from '../../settings/durable-file.js';
import { dateProblem, namesCover, stateAt } from '../certificate-facts.js';
import { leafFolder, readPair, writePair, type StoredPair } from '../certificate-files.js';
import { heldIfPair, type Held } from '../held-certificates.js';
import type { RenewalInfo } from './renewal-plan.js';

/** What a held certificate was ordered for: another account or key type means a new order. */
export interface OrderedFor {
  accountId: string;
  keyType: string;
  names: string[];
  orderedAt: string;
}

/** A route's ACME slot: what is served, what is going on, and what went wrong. */
export interface AcmeSlot {
  held: (Held & { orderedFor: OrderedFor }) | null;
  ordering: Promise<void> | null;
  failures: number;
  lastFailureAt: Date | null;
  lastAttempt: AcmeRouteState['lastAttempt'];
  /** The CA's last renewalInfo answer (ARI) for the held certificate, and when to ask again (ms). */
  renewalInfo: RenewalInfo | null;
  renewalInfoDue: number;
  preflight: PreflightReport | null;
}

export function emptySlot(): AcmeSlot {
  return { held: null, ordering: null, failures: 0, lastFailureAt: null, lastAttempt: null, renewalInfo: null, renewalInfoDue: 0, preflight: null };
}

export class AcmeCertificateFiles {
  readonly #root: string;

  constructor(dataDir: string) {
    this.#root = join(dataDir, 'acme', 'certificates');
  }

  async save(routeId: string, pair: StoredPair, orderedFor: OrderedFor): Promise<void> {
    const dir = join(this.#root, leafFolder(routeId));
    await writePair(dir, pair);
    await writeFileDurably(join(dir, 'order.json'), JSON.stringify(orderedFor, null, 2), { mode: 0o644 });
  }

  /** The stored certificate of each route in `routeIds` that reads and matches its key. */
  async load(routeIds: readonly string[]): Promise<Map<string, NonNullable<AcmeSlot['held']>>> {
    const found = new Map<string, NonNullable<AcmeSlot['held']>>();
    for (const routeId of routeIds) {
      const dir = join(this.#root, leafFolder(routeId));
      const pair = await readPair(dir);
      const entry = pair ? heldIfPair(pair) : null;
      const orderedFor = await fs.readFile(join(dir, 'order.json'), 'utf8').then((text) => JSON.parse(text) as OrderedFor, () => null);
      if (entry && orderedFor) found.set(routeId, { ...entry, orderedFor });
    }
    return found;
  }

  /** Removes the folders of routes not in `keep` (removed routes, or routes no longer on ACME). */
  async prune(keep: readonly string[]): Promise<void> {
    const folders = new Set(keep.map(leafFolder));
    const present = await fs.readdir(this.#root).catch(() => [] as string[]);
    for (const folder of present.filter((name) => !folders.has(name))) await fs.rm(join(this.#root, folder), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** True when the held certificate still fits the route (same account and key type, every name covered). */
export function heldFits(held: AcmeSlot['held'], route: Route): boolean {
  const acme = route.tls.acme;
  if (!held || !acme) return false;
  return held.orderedFor.accountId === acme.accountId && held.orderedFor.keyType === acme.keyType && route.names.every((name) => namesCover(held.facts.names, name.toLowerCase()));
}

function problemOf(problem: AcmeProblem): Problem {
  return { code: `acme_${problem.code}`, message: problem.message, ...(problem.fix ? { fix: problem.fix } : {}) };
}

/** What the API shows about an ACME route's certificate. */
export function acmeRouteCertificate(route: Route, slot: AcmeSlot, renewal: AcmeRenewal | null, now: Date): RouteCertificate {
  const acme = route.tls.acme!;
  const state: AcmeRouteState = {
    accountId: acme.accountId,
    challenge: acme.challenge,
    dnsProviderId: acme.dnsProviderId,
    profile: acme.profile,
    ordering: slot.ordering !== null,
    renewal,
    lastAttempt: slot.lastAttempt,
    failures: slot.failures,
    preflight: slot.preflight,
  };
  const base = { routeId: route.id, mode: route.tls.mode, names: [] as string[], issuer: null, notBefore: null, notAfter: null, fingerprintSha256: null, renewsAt: renewal?.at ?? null, acme: state };
  const failed = slot.lastAttempt && !slot.lastAttempt.ok ? slot.lastAttempt.problem : null;
  const held = heldFits(slot.held, route) ? slot.held : null;
  if (!held) return failed ? { ...base, state: 'error', problem: problemOf(failed) } : { ...base, state: 'pending', problem: null };
  const facts = {
    ...base,
    names: held.facts.names,
    issuer: held.facts.issuer,
    notBefore: held.facts.notBefore.toISOString(),
    notAfter: held.facts.notAfter.toISOString(),
    fingerprintSha256: held.facts.fingerprintSha256,
  };
  const dates = stateAt(held.facts, now);
  // A failed renewal: the certificate is still served, but it is not renewed until a retry succeeds.
  if (failed) return { ...facts, state: dates === 'expired' ? 'expired' : 'expiring', problem: problemOf(failed) };
  return { ...facts, state: dates, problem: dates === 'valid' ? null : dateProblem(dates, held.facts, 'Renew it now on the Certificates page, and look at the last attempt if it fails.') };
}
