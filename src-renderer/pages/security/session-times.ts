// When this session ends, in words: it ends after a while unused, and at a fixed time whatever happens.
import type { AuthSession } from '../../../shared/admin-auth.js';

function when(ms: number, now: Date): string {
  const date = new Date(ms);
  const sameDay = date.toDateString() === now.toDateString();
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  return sameDay ? `at ${time}` : `on ${date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' })} at ${time}`;
}

/** "This session ends at 14:30 if unused until then, and on Sun 13 Dec at 09:12 at the latest." */
export function sessionEnds(session: AuthSession, now: Date): string {
  const idle = when(session.idleExpiresAt, now);
  if (session.idleExpiresAt >= session.absoluteExpiresAt) return `This session ends ${idle}.`;
  return `This session ends ${idle} if it is not used until then, and ${when(session.absoluteExpiresAt, now)} at the latest.`;
}
