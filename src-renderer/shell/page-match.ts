// Which page a hash path shows. Pure, so the rule (static segments beat parameters) is unit-tested.

export interface PathPattern {
  path: string;
}

export interface PageMatch<P extends PathPattern> {
  page: P;
  params: Record<string, string>;
}

/** "#/routes/r1" → "/routes/r1"; "" and "#" → "/". A trailing slash is ignored. */
export function pathFromHash(hash: string): string {
  const path = hash.replace(/^#/, '').split('?')[0] ?? '';
  if (path === '' || path === '/') return '/';
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/** The parameters when `pattern` matches `path`, else null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const wanted = segments(pattern);
  const actual = segments(path);
  if (wanted.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of wanted.entries()) {
    const value = actual[index]!;
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return null; // a broken %-escape is no page's parameter
      }
    } else if (segment !== value) {
      return null;
    }
  }
  return params;
}

/** The most specific page for `path` (the one with most static segments), or null. */
export function findPage<P extends PathPattern>(pages: readonly P[], path: string): PageMatch<P> | null {
  let best: (PageMatch<P> & { score: number }) | null = null;
  for (const page of pages) {
    const params = matchPath(page.path, path);
    if (!params) continue;
    const score = segments(page.path).filter((segment) => !segment.startsWith(':')).length;
    if (!best || score > best.score) best = { page, params, score };
  }
  return best && { page: best.page, params: best.params };
}

/** The `:name` placeholders of `pattern` filled in, e.g. routePath("/routes/:id", { id: "r1" }). */
export function fillPath(pattern: string, params: Record<string, string>): string {
  return pattern.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => encodeURIComponent(params[name] ?? ''));
}
