// Host names as routes (and the certificates for them) take them: one rule for the route form, the
// admin API and the ACME pre-flight. Apart from model.ts because acme.ts needs it and model.ts
// imports acme.ts. Imports nothing but zod: this file is bundled into the renderer.
import { z } from 'zod';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Lower-cases a host name and drops one trailing dot, the form routes are stored and matched in.
 * Host matching is case-insensitive (RFC 9110 §4.2.3), so "Jellyfin.Home.Example." and
 * "jellyfin.home.example" are the same route.
 */
export function normalizeHostname(name: string): string {
  const trimmed = name.trim().toLowerCase();
  return trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
}

/** Why `name` (already normalized) is not a usable route name, or null when it is one. */
export function hostnameProblem(name: string): string | null {
  if (name === '') return 'enter a host name, such as jellyfin.home.arpa';
  if (name.length > 253) return `"${name.slice(0, 40)}…" is longer than the 253 characters a host name may have`;
  if (/[^\x21-\x7e]/.test(name)) {
    return /\s/.test(name)
      ? `"${name}" contains a space; a host name is one word such as jellyfin.home.arpa`
      : `"${name}" has characters outside plain ASCII; write an international name in its xn-- (punycode) form`;
  }
  if (name.includes('://') || name.includes('/')) {
    return `"${name}" looks like a URL; enter only the host name, such as jellyfin.home.arpa`;
  }
  if (name.includes(':')) return `"${name}" has a port or colon; a route name is matched on any port, so leave the port out`;
  if (IPV4.test(name)) return `"${name}" is an IP address; a route needs a name such as jellyfin.home.arpa`;
  const labels = name.split('.');
  for (const [i, label] of labels.entries()) {
    if (label === '*') {
      if (i !== 0) return `"${name}": a wildcard "*" may only be the first label, as in *.home.arpa`;
      if (labels.length < 3) return `"${name}": a wildcard needs at least two labels after it, as in *.home.arpa`;
      continue;
    }
    if (label === '') return `"${name}" has an empty label (two dots in a row, or a leading dot)`;
    if (label.length > 63) return `"${name}": the label "${label.slice(0, 20)}…" is longer than 63 characters`;
    if (!LABEL.test(label)) {
      return label.includes('*')
        ? `"${name}": a wildcard must be a whole label, as in *.home.arpa`
        : `"${name}": the label "${label}" may only use letters, digits and inner hyphens`;
    }
  }
  return null;
}

/** A route's host name: an exact name ("jellyfin.home.arpa") or a wildcard ("*.home.arpa"). */
export const HostnameSchema = z
  .string()
  .transform(normalizeHostname)
  .superRefine((name, ctx) => {
    const problem = hostnameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
