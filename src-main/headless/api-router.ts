// Maps an HTTP method and path onto an API member, built once from `endpoints` in shared/api.ts so
// a member added to the contract is reachable over HTTP without touching this file.
import { endpoints, type ApiMember, type EndpointSpec } from '../../shared/api.js';

type Segment = { literal: string } | { param: string };

interface CompiledRoute {
  member: ApiMember;
  method: EndpointSpec['method'];
  segments: Segment[];
}

export type ApiRouteMatch =
  | { kind: 'endpoint'; member: ApiMember; params: Record<string, string> }
  /** The path exists, but not for this method. */
  | { kind: 'wrong_method'; allowed: string[] }
  | { kind: 'none' };

function splitPath(pathname: string): string[] {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  return trimmed.split('/').slice(1);
}

function compile(table: Record<string, EndpointSpec>): CompiledRoute[] {
  return Object.entries(table).map(([member, spec]) => ({
    member: member as ApiMember,
    method: spec.method,
    segments: splitPath(spec.path).map((part) => (part.startsWith(':') ? { param: part.slice(1) } : { literal: part })),
  }));
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i]!;
    if ('literal' in segment) {
      if (segment.literal !== part) return null;
    } else {
      if (part === '') return null;
      try {
        params[segment.param] = decodeURIComponent(part);
      } catch {
        return null;
      }
    }
  }
  return params;
}

/** Builds the matcher; `table` is the contract's endpoints unless a test passes its own. */
export function createApiRouter(table: Record<string, EndpointSpec> = endpoints): (method: string, pathname: string) => ApiRouteMatch {
  const routes = compile(table);
  return (method, pathname) => {
    const parts = splitPath(pathname);
    const allowed: string[] = [];
    for (const route of routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method) return { kind: 'endpoint', member: route.member, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'wrong_method', allowed } : { kind: 'none' };
  };
}

/** Whether the member's input comes from a JSON body (POST, PUT, PATCH) or from path and query (GET, DELETE). */
export function takesBody(member: ApiMember): boolean {
  const method: EndpointSpec['method'] = endpoints[member].method;
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}
