// A request's path as the service behind would most likely read it, for the checks that match on
// paths (scanner probes, app sign-in paths): without the query, percent-decoded once (what servers
// do), backslashes read as slashes (IIS and some Windows-hosted apps do), repeated slashes
// collapsed and dot segments resolved. A client that hides `/.env` as `//%2e%65nv` or
// `/x/../.env` is matched all the same; a path whose `..` segments climb above the root is what a
// traversal attack looks like (browsers resolve dot segments before sending) and comes back null.
//
// Most paths need none of this: one scan for the characters that could change anything, and the
// path is returned as it came, with nothing allocated.

const PERCENT = 37; // %
const SLASH = 47; // /
const BACKSLASH = 92; // \
const DOT = 46; // .
const QUERY = 63; // ?
const FRAGMENT = 35; // #

/** Where the path part of a request target ends (before `?` or `#`). */
function pathEnd(target: string): number {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === QUERY || c === FRAGMENT) return i;
  }
  return target.length;
}

/** True when `target`'s path is already in the form normalizedPath returns. */
function alreadyNormal(target: string, end: number): boolean {
  let previous = 0;
  for (let i = 0; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === PERCENT || c === BACKSLASH) return false;
    if (c === SLASH && previous === SLASH) return false;
    // A segment that starts with a dot may be "." or "..".
    if (c === DOT && previous === SLASH) {
      const next = i + 1 < end ? target.charCodeAt(i + 1) : SLASH;
      if (next === SLASH || (next === DOT && (i + 2 >= end || target.charCodeAt(i + 2) === SLASH))) return false;
    }
    previous = c;
  }
  return true;
}

/**
 * True when `target`'s path could read differently once normalized in a way that matters to the
 * first segment or to the root: an escape in the first segment, an escaped dot or slash anywhere
 * (`%2e`, `%2f`, `%5c`), a backslash, a doubled slash or a dot segment. One pass, no allocation:
 * paths with ordinary escapes deeper down (`/files/My%20File.txt`) are not disguised.
 */
export function mayBeDisguised(target: string): boolean {
  let slashes = 0;
  let previous = 0;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === QUERY || c === FRAGMENT) return false;
    if (c === SLASH) {
      if (previous === SLASH) return true;
      slashes++;
    } else if (c === BACKSLASH) {
      return true;
    } else if (c === PERCENT) {
      if (slashes <= 1) return true;
      const a = target.charCodeAt(i + 1);
      const b = target.charCodeAt(i + 2) | 0x20;
      if ((a === 50 && (b === 101 || b === 102)) || (a === 53 && b === 99)) return true; // 2e 2f 5c
    } else if (c === DOT && previous === SLASH && endsDotSegment(target, i)) {
      return true;
    }
    previous = c;
  }
  return false;
}

/** The segment starting at `i` (a dot) is "." or "..". */
function endsDotSegment(target: string, i: number): boolean {
  return segmentEndsAt(target, i + 1) || (target.charCodeAt(i + 1) === DOT && segmentEndsAt(target, i + 2));
}

function segmentEndsAt(target: string, at: number): boolean {
  if (at >= target.length) return true;
  const c = target.charCodeAt(at);
  return c === SLASH || c === QUERY || c === FRAGMENT;
}

const ESCAPE = /%([0-9A-Fa-f]{2})/g;

/**
 * `target`'s path (from the request line or :path), normalized as above; null when its dot
 * segments climb above the root. Decoded bytes become latin1 characters: the checks compare ASCII.
 */
export function normalizedPath(target: string): string | null {
  const end = pathEnd(target);
  if (alreadyNormal(target, end)) return end === target.length ? target : target.slice(0, end);
  let path = target.slice(0, end);
  if (path.includes('%')) path = path.replace(ESCAPE, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  const segments: string[] = [];
  const parts = path.replace(/\\/g, '/').split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === '' || part === '.') {
      // Keep a trailing slash: "/.git/" and "/.git" differ for some matchers.
      if (i === parts.length - 1 && segments.length > 0) segments.push('');
      continue;
    }
    if (part === '..') {
      if (segments.length === 0) return null;
      segments.pop();
      continue;
    }
    segments.push(part);
  }
  return `/${segments.join('/')}`;
}

/**
 * True when the segment of `path` starting at `start` equals `name` (lower case ASCII), compared
 * case-insensitively; with `variants`, also when `name` is followed by `.`, `-`, `_` or `~` and
 * more (`.env.local`, `.env-prod`, `.env~`). Allocates nothing.
 */
export function segmentIs(path: string, start: number, name: string, variants = false): boolean {
  const n = name.length;
  if (path.length < start + n) return false;
  for (let i = 0; i < n; i++) {
    let c = path.charCodeAt(start + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== name.charCodeAt(i)) return false;
  }
  const after = start + n;
  if (after === path.length) return true;
  const c = path.charCodeAt(after);
  // A path as sent still carries its query: "/.env?x" is "/.env".
  if (c === SLASH || c === QUERY || c === FRAGMENT) return true;
  return variants && (c === DOT || c === 45 /* - */ || c === 95 /* _ */ || c === 126 /* ~ */);
}
