// The admin web UI's own HTTPS certificate, for when it listens on the LAN: issued by the local CA
// for this machine's names (hostname.local, and the host name itself when it lies in the CA's
// domains) and its addresses (iPAddress SANs: a phone typing https://192.168.1.20:4780 gets no
// warning once it trusts the CA). Kept in certs/admin/, apart from the routes' leaves, so it never
// shows up as a route's certificate. Checked every CHECK_EVERY_MS: renewed like a route's leaf (a
// third of its life left), and reissued when an address or the host name changed or the CA was
// replaced; the listener is handed the new one without a restart.
import { X509Certificate } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { lanAddresses } from '../net/lan-addresses.js';
import type { ServedCertificate } from '../proxy/tls-certificates.js';
import { readPair, writePair } from './certificate-files.js';
import { held, heldIfPair, renewsAt, type Held } from './held-certificates.js';
import { issueLeaf } from './leaf.js';
import type { LocalCa } from './local-ca.js';
import { canonicalHostName, isWithinDomain } from './name-constraints.js';

/** How often the names, addresses, CA and renewal time are compared with the certificate (ms). Default: 30 s. */
const CHECK_EVERY_MS = 30_000;

const WILDCARDS = new Set(['0.0.0.0', '::', '::0']);

export interface AdminCertificateOptions {
  /** The current local CA (a change of domains replaces it). */
  ca: () => LocalCa;
  /** The admin's listen address: a wildcard is reached at every address of this machine, any other only there. */
  bindAddress: string;
  now?: () => Date;
  hostname?: () => string;
  /** This machine's LAN addresses; default lanAddresses(). */
  addresses?: () => string[];
  checkEveryMs?: number;
}

/** The names and addresses the certificate must carry. */
export interface AdminSubjects {
  dnsNames: string[];
  ipAddresses: string[];
}

/** What the admin certificate should say for this machine now. */
export function adminSubjects(bindAddress: string, hostname: string, addresses: readonly string[], caDomains: readonly string[]): AdminSubjects {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  const candidates = [`${name.split('.')[0]}.local`, ...(name.includes('.') ? [name] : [])];
  const dnsNames = candidates.filter((candidate) => {
    try {
      return canonicalHostName(candidate) === candidate && caDomains.some((domain) => isWithinDomain(candidate, domain));
    } catch {
      return false; // a host name that is no valid DNS name ("My_PC") is simply left out
    }
  });
  let ipAddresses: string[];
  if (bindAddress === '0.0.0.0') ipAddresses = [...addresses.filter((address) => !address.includes(':')), '127.0.0.1'];
  else if (WILDCARDS.has(bindAddress)) ipAddresses = [...addresses, '127.0.0.1', '::1'];
  else ipAddresses = [bindAddress];
  return { dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}

/** The DNS and IP SANs of a certificate, as adminSubjects lists them (OpenSSL's text form, parsed). */
function subjectsOf(x509: X509Certificate): AdminSubjects {
  const entries = (x509.subjectAltName ?? '').split(', ');
  return {
    dnsNames: entries.filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4)),
    ipAddresses: entries.filter((entry) => entry.startsWith('IP Address:')).map((entry) => normalizeIp(entry.slice(11))),
  };
}

/** OpenSSL prints IPv6 in full upper-case form; compare in Node's compressed lower-case form. */
function normalizeIp(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

function sameSubjects(a: AdminSubjects, b: AdminSubjects): boolean {
  const key = (subjects: AdminSubjects) => JSON.stringify([[...subjects.dnsNames].sort(), [...subjects.ipAddresses].map(normalizeIp).sort()]);
  return key(a) === key(b);
}

export class AdminCertificate {
  readonly #options: AdminCertificateOptions;
  readonly #dir: string;
  readonly #listeners = new Set<(certificate: ServedCertificate) => void>();
  /** Set by start() before anyone sees the instance. */
  #held!: Held;
  #caFingerprint = '';
  #checking: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;

  private constructor(options: AdminCertificateOptions, dir: string) {
    this.#options = options;
    this.#dir = dir;
  }

  /** The stored certificate when it is still right for this machine, a new one otherwise; then checks on a timer. */
  static async start(options: AdminCertificateOptions): Promise<AdminCertificate> {
    const ca = options.ca();
    const dir = join(ca.files.dir, 'admin');
    const stored = await readPair(dir);
    const loaded = stored ? heldIfPair(stored) : null;
    const caX509 = new X509Certificate(ca.info.certificatePem);
    const service = new AdminCertificate(options, dir);
    if (loaded && loaded.x509.checkIssued(caX509) && loaded.x509.verify(caX509.publicKey)) {
      service.#held = loaded;
      service.#caFingerprint = ca.info.fingerprintSha256;
    }
    if (service.#caFingerprint === '' || service.#due()) await service.#issue();
    service.#timer = setInterval(() => void service.check(), options.checkEveryMs ?? CHECK_EVERY_MS).unref();
    return service;
  }

  /** The certificate to serve now (leaf, PEM). */
  get current(): ServedCertificate {
    return this.#held.served;
  }

  /** The names and addresses the current certificate carries. */
  get subjects(): AdminSubjects {
    return subjectsOf(this.#held.x509);
  }

  /** Calls `listener` with each new certificate; returns the unsubscribe function. */
  onChange(listener: (certificate: ServedCertificate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reissues when the names, addresses or CA changed or renewal is due; a failure keeps the old one and is retried at the next check. */
  check(): Promise<void> {
    this.#checking = this.#checking.then(async () => {
      if (this.#timer === null || !this.#due()) return;
      try {
        await this.#issue();
      } catch (error) {
        console.error('gatehouse: renewing the admin certificate failed (the current one is kept; retrying shortly):', error);
      }
    });
    return this.#checking;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }

  #wanted(): AdminSubjects {
    const ca = this.#options.ca();
    return adminSubjects(this.#options.bindAddress, (this.#options.hostname ?? osHostname)(), (this.#options.addresses ?? lanAddresses)(), ca.info.permittedDomains);
  }

  #due(): boolean {
    if (this.#options.ca().info.fingerprintSha256 !== this.#caFingerprint) return true;
    const now = (this.#options.now?.() ?? new Date()).getTime();
    return now >= renewsAt(this.#held.facts) || !sameSubjects(this.#wanted(), subjectsOf(this.#held.x509));
  }

  async #issue(): Promise<void> {
    const ca = this.#options.ca();
    const wanted = this.#wanted();
    const issued = await issueLeaf(ca, wanted.dnsNames, { ipAddresses: wanted.ipAddresses, now: this.#options.now?.() ?? new Date() });
    await writePair(this.#dir, issued);
    this.#held = held(issued);
    this.#caFingerprint = ca.info.fingerprintSha256;
    for (const listener of this.#listeners) listener(this.#held.served);
  }
}
