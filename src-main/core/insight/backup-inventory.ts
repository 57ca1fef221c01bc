// What a backup holds, and what it deliberately leaves out: every file that can appear in the data
// directory, by path pattern. A backup walks the data directory and takes each file whose entry
// says `backup`; a file no entry names is left out of the backup and named in its `holds` list, and
// test/unit/backup-inventory.test.ts fails when a full gateway run leaves such a file, so a part
// added later cannot be forgotten silently: whoever adds a file adds its line here.
//
// Secrets sealed by this machine's SecretBox (acme/secrets/*.bin: DNS credentials, EAB keys, the
// scheduled backups' passphrase) are opened and carried as plain text INSIDE the encrypted backup,
// then sealed again by the restoring machine's box: a sealed file would be useless on another
// machine (another key file, another OS keystore).

/** What a file is to a backup. */
export type InventoryClass =
  /** settings.json: carried as the settings in force, validated and migrated on restore. */
  | 'settings'
  /** Copied as it is, with its permission bits. */
  | 'file'
  /** A secret sealed by this machine: opened for the backup, sealed again on restore. */
  | 'sealed-secret'
  /** Deliberately not backed up; `why` says why. */
  | 'excluded';

export interface InventoryEntry {
  /** Matches the path relative to the data directory, with `/` separators. */
  pattern: RegExp;
  class: InventoryClass;
  /** The restore preview's area (RestoreChange.area) of a file that is backed up. */
  area?: 'settings' | 'local-ca' | 'certificates' | 'acme' | 'dns' | 'users' | 'secrets';
  /** What it is, for people. */
  what: string;
  /** Why an excluded file stays behind. */
  why?: string;
}

const SEGMENT = '[^/]+';

export const BACKUP_INVENTORY: readonly InventoryEntry[] = [
  { pattern: /^settings\.json$/, class: 'settings', area: 'settings', what: 'settings: routes, streams, access lists, sign-in providers, ACME accounts and DNS providers (without secrets), country rules, the backup schedule' },
  { pattern: /^certs\/ca\.pem$/, class: 'file', area: 'local-ca', what: "the local CA's certificate" },
  { pattern: /^certs\/ca-key\.pem$/, class: 'file', area: 'local-ca', what: "the local CA's private key" },
  { pattern: new RegExp(`^certs/routes/${SEGMENT}/(cert|key)\\.pem$`), class: 'file', area: 'certificates', what: "a route's certificate and key from the local CA" },
  { pattern: new RegExp(`^certs/custom/${SEGMENT}/(cert\\.pem|key\\.pem|meta\\.json)$`), class: 'file', area: 'certificates', what: 'an imported certificate, its key and its label' },
  { pattern: new RegExp(`^acme/accounts/${SEGMENT}/(key\\.pem|key\\.next\\.pem|account\\.json)$`), class: 'file', area: 'acme', what: "an ACME account's key and its URL at the CA" },
  { pattern: new RegExp(`^acme/certificates/${SEGMENT}/(cert\\.pem|key\\.pem|order\\.json)$`), class: 'file', area: 'acme', what: 'a certificate from an ACME CA (Let’s Encrypt…), its key and what it was ordered for' },
  { pattern: new RegExp(`^acme/secrets/${SEGMENT}\\.bin$`), class: 'sealed-secret', area: 'secrets', what: 'a sealed secret (DNS provider credentials, an EAB key, the scheduled backups’ passphrase)' },
  { pattern: /^access-users\.json$/, class: 'file', area: 'users', what: 'sign-in users (names and argon2id password hashes)' },
  { pattern: /^crowdsec-key$/, class: 'file', area: 'secrets', what: "the CrowdSec bouncer's API key" },
  { pattern: /^sticky-cookie\.key$/, class: 'file', area: 'secrets', what: "the sticky cookie's key (browsers stay on their upstream)" },

  { pattern: /^acme\/secret\.key$/, class: 'excluded', what: "this machine's key that seals secrets", why: 'secrets are carried opened inside the encrypted backup and sealed again with the restoring machine’s own key' },
  { pattern: new RegExp(`^certs/admin/${SEGMENT}$`), class: 'excluded', what: "the admin web UI's certificate", why: "it is made again from the local CA for the restoring machine's own names and addresses" },
  { pattern: new RegExp(`^certs/replaced-${SEGMENT}(/.*)?$`), class: 'excluded', what: 'local CAs replaced earlier, kept aside', why: 'history: no route uses them' },
  { pattern: new RegExp(`^replaced-${SEGMENT}(/.*)?$`), class: 'excluded', what: 'what an earlier restore replaced', why: 'history: kept only on the machine it was replaced on' },
  { pattern: /^settings\.before-import-[^/]+\.json$/, class: 'excluded', what: 'copies of the settings file kept before an import', why: 'history: the settings in force are backed up' },
  { pattern: /^settings\.json\.(bak|unreadable-[^/]+)$/, class: 'excluded', what: 'the previous settings file, and one that could not be read', why: 'history: the settings in force are backed up' },
  { pattern: /^access(-combined)?\.log(\.\d+)?$/, class: 'excluded', what: 'the access logs', why: 'logs describe this machine’s past, and can be large' },
  { pattern: /^history\/.+$/, class: 'excluded', what: 'the traffic and up/down history (docs/history.md)', why: 'it describes this machine’s past traffic, and takes up to about 1 MB a route' },
  { pattern: /^backups-last-run\.json$/, class: 'excluded', what: "the scheduled backups' last run", why: 'it describes this machine’s past runs' },
  { pattern: /^gatehouse\.lock$/, class: 'excluded', what: 'the lock held by the running Gatehouse', why: 'it belongs to the running process' },
  { pattern: /^admin-token$/, class: 'excluded', what: "the headless admin API's token", why: 'a restore must not change who may sign in to the admin UI that is restoring (a token is made at the first start)' },
  { pattern: /^admin-auth\.json(\.lock)?$/, class: 'excluded', what: "the admin UI's password hash, TOTP secret and sessions", why: 'a restore must not change who may sign in to the admin UI that is restoring, nor sign everyone out' },
  { pattern: /^once-link$/, class: 'excluded', what: 'a one-time sign-in link', why: 'short-lived, for this machine only' },
  { pattern: /^serve\.json$/, class: 'excluded', what: 'the running `gatehouse serve`’s address', why: 'describes the running process' },
  { pattern: /^window-state\.json$/, class: 'excluded', what: 'the desktop window’s size and place', why: 'belongs to this screen' },
  { pattern: /(^|\/)[^/]*\.tmp-[^/]*$/, class: 'excluded', what: 'a file half-written when Gatehouse stopped', why: 'incomplete by nature' },
];

/** The entry for a data-directory path (`/` separators), or null when none names it. */
export function classify(relativePath: string): InventoryEntry | null {
  return BACKUP_INVENTORY.find((entry) => entry.pattern.test(relativePath)) ?? null;
}

/** True when a backup may carry (and a restore may write) this path: only backed-up classes, no `..`. */
export function restorable(relativePath: string): boolean {
  if (relativePath.split('/').some((part) => part === '' || part === '.' || part === '..')) return false;
  const entry = classify(relativePath);
  return entry !== null && (entry.class === 'file' || entry.class === 'sealed-secret');
}
