// The scanner probe list: requests no person and no app behind a home-lab proxy ever makes, and
// that bots make by the million looking for secrets and known holes. Short on purpose: every entry
// must be worth its risk of refusing someone (issue 13 asks for the best value per false block,
// not a rule set). docs/limits.md says the same for users.
//
// How an entry is matched, and why:
//   - On the path as the service would read it (request-path.ts): percent-decoded, `//` and `\`
//     folded, dot segments resolved, so `//%2Eenv` is `/.env`.
//   - Only at the root (the first segment), not anywhere: a file named `.env` inside a Nextcloud
//     folder (`/remote.php/dav/files/me/project/.env`) or a Gitea repository
//     (`/me/app/src/branch/main/.env`) is a real file a real user opens. Scanners always try the
//     root too, so a scanner still trips the list within its first few requests.
//   - Case-insensitively: on a case-insensitive file system (macOS, Windows, many NAS shares)
//     `/.ENV` serves `/.env`, and no app serves `/.Env` as something else.
//   - The WordPress and phpMyAdmin entries only on routes whose app is a known preset: none of
//     them is WordPress or phpMyAdmin, while a route with no app set may well be a WordPress site
//     whose owner signs in at /wp-login.php.
import { mayBeDisguised, normalizedPath, segmentIs } from './request-path.js';

export interface Probe {
  /** As the log and the Access page name it ("/.env"). */
  readonly name: string;
  /** The first path segment, lower case. */
  readonly segment: string;
  /** Also `segment` followed by `.`, `-`, `_` or `~` and more (`.env.local`, `.env~`). Default: exact. */
  readonly variants?: boolean;
  /** A second segment that must follow (lower case). Default: none. */
  readonly then?: string;
  /** Only on routes whose app is known not to be this software. Default: every route. */
  readonly unlessAppUnknown?: boolean;
  /** Why it is on the list: what a scanner hopes to find there. */
  readonly why: string;
}

export const SCANNER_PROBES: readonly Probe[] = [
  { name: '/.env', segment: '.env', variants: true, why: 'Environment files (.env, .env.local, .env.production) hold database passwords and API keys of Laravel, Node and Docker Compose projects; no app serves one on purpose.' },
  { name: '/.git/', segment: '.git', why: 'An exposed Git directory lets anyone download the source and its history, secrets included. Git hosts (Gitea, Forgejo) serve repositories at /user/name.git, never at /.git.' },
  { name: '/.svn/', segment: '.svn', why: 'The same for Subversion working copies (/.svn/entries, /.svn/wc.db).' },
  { name: '/.aws/', segment: '.aws', why: 'AWS command-line credentials (/.aws/credentials) left in a web root.' },
  { name: '/.DS_Store', segment: '.ds_store', why: 'macOS folder metadata lists every file name in a folder: scanners read it to find backups and admin pages.' },
  { name: '/vendor/phpunit/', segment: 'vendor', then: 'phpunit', why: 'PHPUnit\'s eval-stdin.php runs any PHP code posted to it (CVE-2017-9841); it only exists where a PHP project was deployed with its development tools.' },
  { name: '/wp-login.php', segment: 'wp-login.php', unlessAppUnknown: true, why: 'WordPress password guessing, on a service that is not WordPress.' },
  { name: '/xmlrpc.php', segment: 'xmlrpc.php', unlessAppUnknown: true, why: 'WordPress XML-RPC, used for password guessing and pingback floods, on a service that is not WordPress.' },
  { name: '/wp-admin/', segment: 'wp-admin', unlessAppUnknown: true, why: 'The WordPress admin area, on a service that is not WordPress.' },
  { name: '/wp-includes/', segment: 'wp-includes', unlessAppUnknown: true, why: 'WordPress core files, probed for their version and known holes, on a service that is not WordPress.' },
  { name: '/phpmyadmin/', segment: 'phpmyadmin', unlessAppUnknown: true, why: 'phpMyAdmin, probed for default passwords and old holes, on a service that is not phpMyAdmin.' },
];

/** A path whose `..` segments climb above the root: directory traversal (/cgi-bin/.%2e/.%2e/bin/sh). */
export const TRAVERSAL_PROBE: Probe = {
  name: 'path climbing above the root',
  segment: '',
  why: 'Browsers resolve `..` before sending, so a path that climbs above the root (/cgi-bin/.%2e/.%2e/bin/sh, CVE-2021-41773) is an attack on servers that do not.',
};

// The probes by the first character of their segment (lower case): a path whose first segment
// starts with any other character needs no comparison at all.
const BY_FIRST: (Probe[] | undefined)[] = [];
for (const probe of SCANNER_PROBES) (BY_FIRST[probe.segment.charCodeAt(0)] ??= []).push(probe);

/** A-Z as a-z; anything else as it is. */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function matchFirstSegment(path: string, appKnown: boolean): Probe | null {
  const candidates = BY_FIRST[lower(path.charCodeAt(1))];
  if (candidates === undefined) return null;
  for (const probe of candidates) {
    if (probe.unlessAppUnknown && !appKnown) continue;
    if (!segmentIs(path, 1, probe.segment, probe.variants)) continue;
    if (probe.then === undefined) return probe;
    if (segmentIs(path, 2 + probe.segment.length, probe.then)) return probe;
  }
  return null;
}

/**
 * The probe `target` (a request's path and query) is, or null. `appKnown`: the route's app is a
 * known preset, so the WordPress and phpMyAdmin entries apply. Allocates nothing unless the path
 * is disguised.
 */
export function probeIn(target: string, appKnown: boolean): Probe | null {
  if (!mayBeDisguised(target)) return matchFirstSegment(target, appKnown);
  const path = normalizedPath(target);
  if (path === null) return TRAVERSAL_PROBE;
  return matchFirstSegment(path, appKnown);
}
