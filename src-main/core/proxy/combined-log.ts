// One access-log entry as a line of nginx's "combined" format, the one CrowdSec's stock nginx
// parser (crowdsecurity/nginx-logs) and most log tools read:
//   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
// Time is UTC (+0000). As nginx does, `"`, `\`, control and non-ASCII bytes inside quotes are
// written as \xHH, so a visitor cannot forge a line. The user name keeps only the characters
// CrowdSec's NGUSER pattern takes (letters . @ - + _ %); others are %HH, as in a URL.
import type { AccessLogEntry } from '../../../shared/status.js';

/** What the combined line needs from the request beyond the entry. */
export interface CombinedRequest {
  httpVersion: string;
  headers: { referer?: string | undefined; 'user-agent'?: string | undefined };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const NEEDS_ESCAPE = /[\x00-\x1f"\\\x7f-\uffff]/;
const ESCAPED = /[\x00-\x1f"\\\x7f-\uffff]/g;
const NOT_NGUSER = /[^A-Za-z.@+_-]/g;

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

/** `text` safe inside double quotes, as nginx's escape=default writes it. */
export function escapeQuoted(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(ESCAPED, (char) => {
    const code = char.charCodeAt(0);
    if (code <= 0xff) return `\\x${hex(code)}`;
    return [...Buffer.from(char, 'utf8')].map((byte) => `\\x${hex(byte)}`).join('');
  });
}

function userField(user: string | null): string {
  if (!user) return '-';
  return user.replace(NOT_NGUSER, (char) => [...Buffer.from(char, 'utf8')].map((byte) => `%${hex(byte)}`).join(''));
}

/** "2026-12-06T04:31:45.123Z" as "06/Dec/2026:04:31:45 +0000". */
function timeLocal(iso: string): string {
  const month = MONTHS[Number(iso.slice(5, 7)) - 1] ?? 'Jan';
  return `${iso.slice(8, 10)}/${month}/${iso.slice(0, 4)}:${iso.slice(11, 19)} +0000`;
}

/** Methods of stream entries (TCP, UDP, FTP connections and passed-through TLS): no HTTP request line. */
const STREAM_METHODS = new Set(['TCP', 'UDP', 'FTP', 'TLS']);

/**
 * The combined line for `entry`, or null when there was no request line to log: a connection refused
 * before it sent one, or a stream's connection. Those stay in access.log (JSON) only: the combined
 * format is an HTTP request line, and CrowdSec's nginx parser would take `"TCP :2222 HTTP/1.1" 0` for
 * a request, feeding its HTTP scenarios (probing, 403 floods) connections that are not requests.
 */
export function combinedLine(entry: AccessLogEntry, req: CombinedRequest | null): string | null {
  if (entry.method === '' || entry.path === '') return null;
  if (entry.streamId !== undefined || STREAM_METHODS.has(entry.method)) return null;
  const version = req?.httpVersion ?? '1.1';
  const referer = req?.headers.referer;
  const agent = req?.headers['user-agent'];
  return (
    `${entry.client} - ${userField(entry.user)} [${timeLocal(entry.time)}] ` +
    `"${escapeQuoted(entry.method)} ${escapeQuoted(entry.path)} HTTP/${escapeQuoted(version)}" ${entry.status} ${entry.bytes} ` +
    `"${referer ? escapeQuoted(referer) : '-'}" "${agent ? escapeQuoted(agent) : '-'}"`
  );
}
