// How the Discovery page and the route form write discovery's facts: times relative to now, what a
// service is, where it listens, and a published name's state, in one place.
import type { PublishedName } from '../../shared/status.js';

/** "just now", "40 s ago", "5 min ago", "3 h ago", "2 days ago": how long ago `iso` was. */
export function timeAgo(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return `${days} ${days === 1 ? 'day' : 'days'} ago`;
}

/** "_home-assistant._tcp" → "home-assistant": the part a person recognises. */
export function serviceTypeLabel(type: string): string {
  return type.replace(/^_/, '').replace(/\._(tcp|udp)$/, '');
}

/** The live region's sentence: a count, so a screen reader hears one line per change, not every row. */
export function servicesCountText(count: number): string {
  if (count === 0) return 'No services found yet';
  return `${count} ${count === 1 ? 'service' : 'services'} on the LAN`;
}

/** One line for a published name's state, as the route form and the dashboard say it. */
export function publishedStateText(entry: PublishedName): string {
  switch (entry.state) {
    case 'probing':
      return `${entry.name}: checking that no other device on the LAN uses it…`;
    case 'announced':
      return `${entry.name}: published on the LAN${entry.addresses.length > 0 ? ` (answers ${entry.addresses.join(', ')})` : ''}`;
    case 'conflict':
      return `${entry.name}: ${entry.problem?.message ?? 'another device on the LAN already uses this name'}`;
    case 'stopped':
      return `${entry.name}: not published${entry.problem ? ` (${entry.problem.message})` : ''}`;
  }
}
