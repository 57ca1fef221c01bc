// FTP's control-connection text, as the FTP stream reads and rewrites it: commands from the client,
// replies (single- and multi-line) from the server, the address forms of PASV/EPSV/PORT/EPRT, and the
// FEAT list. Pure functions over strings; the session (ftp-handler.ts) decides what to do with them.
//
// Lines are handled as latin1 text, so every byte (UTF-8 file names, Telnet IAC bytes before ABOR)
// passes through unchanged: latin1 maps bytes to characters one to one.
import { isIPv4, isIPv6 } from 'node:net';

/** A command line is at most this long (RFC 959 has no limit; real ones are paths, well under it). */
export const MAX_COMMAND_BYTES = 4096;
/** A reply line from the server is at most this long, and a multi-line reply has at most this many lines. */
export const MAX_REPLY_LINE_BYTES = 8192;
export const MAX_REPLY_LINES = 10_000;

/** "RETR a b" → { verb: 'RETR', argument: 'a b' }; Telnet IAC sequences (IP, DM before ABOR) are skipped. */
export function parseCommand(line: string): { verb: string; argument: string } {
  const text = line.replace(/^(?:\xff[\xf0-\xff])+/, '').replace(/^\s+/, '');
  const space = text.indexOf(' ');
  const verb = (space === -1 ? text : text.slice(0, space)).toUpperCase();
  return { verb, argument: space === -1 ? '' : text.slice(space + 1) };
}

/** One whole reply: its code and every line (without CRLF). */
export interface Reply {
  code: number;
  lines: string[];
}

/** Assembles replies from server lines; throws on text that is not FTP (the session then ends). */
export class ReplyReader {
  private partial: string[] = [];
  private code = '';

  /** Feeds one line; returns the reply it completes, or null while a multi-line reply goes on. */
  push(line: string): Reply | null {
    if (this.partial.length === 0) {
      const match = /^(\d{3})([ -]|$)/.exec(line);
      if (!match) throw new Error(`the FTP server sent a line that is not a reply: ${JSON.stringify(line.slice(0, 80))}`);
      if (match[2] !== '-') return { code: Number(match[1]), lines: [line] };
      this.code = match[1] as string;
      this.partial = [line];
      return null;
    }
    this.partial.push(line);
    if (this.partial.length > MAX_REPLY_LINES) throw new Error(`the FTP server sent a reply of more than ${MAX_REPLY_LINES} lines`);
    if (line.startsWith(`${this.code} `) || line === this.code) {
      const reply = { code: Number(this.code), lines: this.partial };
      this.partial = [];
      return reply;
    }
    return null;
  }
}

/** The port of a 227 reply "(h1,h2,h3,h4,p1,p2)" (the address is ignored: see ftp-handler.ts), or null. */
export function parsePasvReply(text: string): number | null {
  const match = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(text);
  if (!match) return null;
  const [high, low] = [Number(match[5]), Number(match[6])];
  if (high > 255 || low > 255) return null;
  const port = high * 256 + low;
  return port >= 1 ? port : null;
}

/** The port of a 229 reply "(|||port|)" (any delimiter), or null. */
export function parseEpsvReply(text: string): number | null {
  const match = /\(([!-~])\1\1(\d{1,5})\1\)/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? port : null;
}

export function formatPasvReply(ipv4: string, port: number): string {
  return `227 Entering Passive Mode (${ipv4.split('.').join(',')},${port >> 8},${port & 255}).`;
}

export function formatEpsvReply(port: number): string {
  return `229 Entering Extended Passive Mode (|||${port}|).`;
}

/** "h1,h2,h3,h4,p1,p2" (PORT's argument) → address and port, or null. */
export function parsePortArgument(argument: string): { address: string; port: number } | null {
  const match = /^\s*(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})\s*$/.exec(argument);
  if (!match) return null;
  const bytes = match.slice(1).map(Number);
  if (bytes.some((byte) => byte > 255)) return null;
  const port = (bytes[4] as number) * 256 + (bytes[5] as number);
  return port >= 1 ? { address: bytes.slice(0, 4).join('.'), port } : null;
}

/** "|1|132.235.1.2|6275|" / "|2|::1|6275|" (EPRT's argument, RFC 2428) → address and port, or null. */
export function parseEprtArgument(argument: string): { address: string; port: number } | null {
  const text = argument.trim();
  const delimiter = text[0];
  if (delimiter === undefined || !/[!-~]/.test(delimiter)) return null;
  const parts = text.split(delimiter);
  // ['', proto, address, port, '']
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return null;
  const [, protocol, address = '', portText = ''] = parts;
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  if (protocol === '1' && isIPv4(address)) return { address, port };
  if (protocol === '2' && isIPv6(address)) return { address: address.toLowerCase(), port };
  return null;
}

/** The command that tells the server to connect to `address:port` (PORT for IPv4, EPRT for IPv6). */
export function formatActiveCommand(address: string, port: number): string {
  if (isIPv4(address)) return `PORT ${address.split('.').join(',')},${port >> 8},${port & 255}`;
  return `EPRT |2|${address}|${port}|`;
}

/** An IPv4-mapped IPv6 address ("::ffff:10.0.0.5") as the IPv4 it is; others unchanged. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address.toLowerCase();
}

/** Features Gatehouse itself answers for (FTPS) and so lists, or hides, whatever the server says. */
const OWN_FEATURES = new Set(['AUTH', 'PBSZ', 'PROT', 'CCC']);

/**
 * The FEAT reply the client sees: the server's features without its own TLS ones (the server's TLS
 * is never used: Gatehouse talks plain FTP to it), plus Gatehouse's when FTPS is on, and without
 * EPRT when active mode is off. A server without FEAT (5xx) gets a list of Gatehouse's alone.
 */
export function rewriteFeatReply(reply: Reply, options: { tls: boolean; active: boolean }): string[] {
  const ours = options.tls ? [' AUTH TLS', ' PBSZ', ' PROT'] : [];
  if (reply.code !== 211) return ours.length ? ['211-Features:', ...ours, '211 End'] : reply.lines;
  const features = reply.lines.slice(1, -1).filter((line) => {
    const name = (line.trim().split(/\s+/)[0] ?? '').toUpperCase();
    if (OWN_FEATURES.has(name)) return false;
    if (!options.active && name === 'EPRT') return false;
    return true;
  });
  const all = [...features, ...ours];
  if (all.length === 0) return ['211 No features'];
  const first = reply.lines.length > 1 ? (reply.lines[0] as string) : '211-Features:';
  const last = reply.lines.length > 1 ? (reply.lines[reply.lines.length - 1] as string) : '211 End';
  return [first, ...all, last];
}

/**
 * `text` with every listed IP address replaced by `replacement`: the server's LAN address (and
 * Gatehouse's own LAN-side address) must not reach a client outside the LAN, e.g. in vsftpd's STAT.
 * Every form an address can take in FTP text is covered: dotted IPv4, the comma form of PASV/PORT
 * ("h1,h2,h3,h4", leading zeros too; replaced by the replacement's comma form, or 0,0,0,0 when the
 * replacement is not IPv4), and IPv6 in any spelling (compressed or not, any case, bracketed, and an
 * IPv4 address written as ::ffff:a.b.c.d or ::ffff:xxxx:xxxx).
 */
export function scrubAddresses(text: string, addresses: readonly string[], replacement: string): string {
  let out = text;
  const v6 = new Set<string>();
  const commaReplacement = isIPv4(replacement) ? replacement.split('.').join(',') : '0,0,0,0';
  for (const address of addresses) {
    if (address === '' || address === replacement) continue;
    if (isIPv4(address)) {
      const escaped = address.replace(/\./g, '\\.');
      out = out.replace(new RegExp(`(?<![\\d.])${escaped}(?![\\d])`, 'g'), replacement);
      const comma = address
        .split('.')
        .map((byte) => `0*${byte}`)
        .join(',');
      out = out.replace(new RegExp(`(?<![\\d])${comma}(?![\\d])`, 'g'), commaReplacement);
      const mapped = canonicalIPv6(`::ffff:${address}`);
      if (mapped) v6.add(mapped);
    } else if (isIPv6(address)) {
      const canonical = canonicalIPv6(address);
      if (canonical) v6.add(canonical);
    } else {
      // A host name (an upstream written as a name).
      const escaped = address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      out = out.replace(new RegExp(`(?<![0-9a-z.-])${escaped}(?![0-9a-z-]|\\.[0-9a-z])`, 'gi'), replacement);
    }
  }
  if (v6.size === 0) return out;
  // Any run that could be an IPv6 address (hex groups with colons, maybe an IPv4 tail) is compared by its canonical form.
  return out.replace(/(?<![0-9a-f:.])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\d{1,3}(?:\.\d{1,3}){3})?(?![0-9a-f:]|\.\d)/gi, (token) => {
    if (!isIPv6(token)) return token;
    const canonical = canonicalIPv6(token);
    return canonical !== null && v6.has(canonical) ? replacement : token;
  });
}

/** An IPv6 address in one spelling ("::ffff:127.0.0.2" and "0:0:0:0:0:FFFF:7f00:2" alike), or null. */
function canonicalIPv6(address: string): string | null {
  try {
    return new URL(`http://[${address}]/`).hostname;
  } catch {
    return null;
  }
}
