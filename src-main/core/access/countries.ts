// Which country an address is in, for country rules: the free "geo-whois-asn-country" database
// (CC0-1.0, built by the ip-location-db project from the regional internet registries' whois and
// ASN data), shipped as the npm package @ip-location-db/geo-whois-asn-country-mmdb and read with
// the maintained MaxMind-format reader `maxmind`. The package's version is pinned in package.json,
// so the data changes only with a Gatehouse release; Gatehouse never downloads it.
//
// The file (7.8 MB, IPv4 and IPv6 in one) is read only when it is needed: when a route has country
// rules, or someone asks (the Access page, "would this address get in"). Reading it never holds up
// the start; a request that needs it before it is read waits for it (tens of milliseconds, once).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Reader, Response } from 'maxmind';
import type { CountryDatabaseInfo } from '../../../shared/access.js';

export const COUNTRY_PACKAGE = '@ip-location-db/geo-whois-asn-country-mmdb';
/** The combined IPv4 + IPv6 file; the package's -ipv4/-ipv6 halves are not shipped. */
export const COUNTRY_FILE = 'geo-whois-asn-country.mmdb';
/** Addresses whose country is remembered (the reader's LRU cache): bounded memory under a flood. */
const CACHE_ENTRIES = 10_000;

/** The record shape of this database (not MaxMind's GeoLite2 `{ country: { iso_code } }`). */
interface CountryRecord {
  country_code?: string;
}

/** Where the installed package keeps the file (inside app.asar when packaged). */
export function countryDatabasePath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`${COUNTRY_PACKAGE}/package.json`)), COUNTRY_FILE);
}

export type CountryDatabaseState = 'unread' | 'reading' | 'ready' | 'failed';

export class CountryDatabase {
  private reader: Reader<Response> | null = null;
  private reading: Promise<void> | null = null;
  private version = '';
  private problem: string | null = null;

  /** `path` defaults to the packaged file; `onReady` is told once it has been read (or failed). */
  constructor(
    private readonly path: () => string = countryDatabasePath,
    private readonly onReady: () => void = () => {},
  ) {}

  get state(): CountryDatabaseState {
    if (this.reader) return 'ready';
    if (this.problem !== null) return 'failed';
    return this.reading ? 'reading' : 'unread';
  }

  /** Why it could not be read, in plain words; null when it was (or is being) read. */
  get failure(): string | null {
    return this.problem;
  }

  /** Reads the file once (later calls share the first read); never rejects: a failure is in `failure`. */
  load(): Promise<void> {
    this.reading ??= this.read();
    return this.reading;
  }

  /** After a failure, the next load() tries again (a settings change asks for this). */
  retry(): void {
    if (this.problem === null) return;
    this.problem = null;
    this.reading = null;
  }

  private async read(): Promise<void> {
    try {
      const path = this.path();
      // The reader is loaded with the data, not at start: most installs never use country rules.
      const { open } = await import('maxmind');
      const [reader, manifest] = await Promise.all([
        open<Response>(path, { cache: { max: CACHE_ENTRIES } }),
        readFile(join(dirname(path), 'package.json'), 'utf8').catch(() => '{}'),
      ]);
      this.version = String((JSON.parse(manifest) as { version?: unknown }).version ?? '');
      this.reader = reader;
    } catch (error) {
      this.problem = `the country database could not be read (${(error as Error).message}); reinstall Gatehouse to restore it`;
      console.error(`gatehouse: ${this.problem}`);
    }
    this.onReady();
  }

  /**
   * The two-letter country of a plain IPv4/IPv6 address ("AU"); null when the database has none
   * (private, reserved and unassigned ranges) or is not read.
   */
  lookup(address: string): string | null {
    if (!this.reader) return null;
    try {
      return (this.reader.get(address) as CountryRecord | null)?.country_code ?? null;
    } catch {
      // The reader refuses what is not an address: no country.
      return null;
    }
  }

  /** Where the data comes from and how it is updated; null until it has been read. */
  info(): CountryDatabaseInfo | null {
    if (!this.reader) return null;
    return {
      source: `${COUNTRY_PACKAGE}${this.version ? `@${this.version}` : ''} (${COUNTRY_FILE}), from the ip-location-db project: the regional internet registries' whois and ASN data`,
      license: 'CC0-1.0',
      builtAt: this.reader.metadata.buildEpoch.toISOString(),
      updates:
        'With Gatehouse releases: the npm package is pinned to one version, and a Gatehouse release may move it to a newer build. Gatehouse does not download it by itself.',
    };
  }
}
