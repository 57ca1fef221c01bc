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

/** What a held certificate was ordered for: another account, directory, key type or profile means a new order. */
export interface OrderedFor {
  accountId: string;
  /** The account's directory when it was ordered (absent in records written before it was kept). */
  directoryUrl?: string;
  keyType: string;
  /** The profile asked for (null: the CA's default; absent in older records, read as null). */
  profile?: string | null;
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

  /** The folder holding every route's folder (for sentences about it). */
  get root(): string {
    return this.#root;
  }

  /** Removes one route's folder (a route removed while its certificate was being saved). */
  async remove(routeId: string): Promise<void> {
    await fs.rm(join(this.#root, leafFolder(routeId)), { recursive: true, force: true }).catch(() => undefined);
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

/**
 * True when the held certificate may be served for the route: it covers every name. A certificate
 * for other names is never served; another account, key type or profile still leaves a valid
 * certificate, served until the new order succeeds (heldCurrent says a new order is wanted).
 */
export function heldFits(held: AcmeSlot['held'], route: Route): held is NonNullable<AcmeSlot['held']> {
  return held !== null && route.tls.acme !== null && route.names.every((name) => namesCover(held.facts.names, name.toLowerCase()));
}

/** True when the held certificate is what the route asks for now (same account, key type and profile): only renewed when due. */
export function heldCurrent(held: AcmeSlot['held'], route: Route): boolean {
  const acme = route.tls.acme;
  if (!heldFits(held, route) || !acme) return false;
  return held.orderedFor.accountId === acme.accountId && held.orderedFor.keyType === acme.keyType && (held.orderedFor.profile ?? null) === acme.profile;
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
  // Issued but not saved (the only failure that leaves failures at 0): fresh, served from memory.
  if (failed && slot.failures === 0) return { ...facts, state: dates, problem: problemOf(failed) };
  // A failed renewal: the certificate is still served, but it is not renewed until a retry succeeds.
  if (failed) return { ...facts, state: dates === 'expired' ? 'expired' : 'expiring', problem: problemOf(failed) };
  return { ...facts, state: dates, problem: dates === 'valid' ? null : dateProblem(dates, held.facts, 'Renew it now on the Certificates page, and look at the last attempt if it fails.') };
}
