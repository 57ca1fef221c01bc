// Streams: what Gatehouse forwards besides HTTP. A stream listens on a port (or a range of ports) of
// this machine and forwards every connection (TCP), every client's datagrams (UDP) or every FTP
// session (an FTP-aware TCP stream) to a server on the LAN. The schemas here are the one source of
// validation for both sides; the engine is src-main/core/streams/, and docs/streams.md says the same
// for users.
//
// In short:
//   - `listenPort` (and `listenPortEnd` for a range) on proxy.bindAddress; a range maps each port to
//     the upstream's port plus the same offset, so 27015–27020 → 10.33.0.8:27015 is one to one and
//     → 10.33.0.8:37015 is shifted.
//   - `upstreams`: 1–8 `host:port`, tried in order: a new connection goes to the first one whose
//     health check passes (failover); with every one down, the first is still tried.
//   - TCP: both directions are spliced as they come, half-close is passed on, a connection silent
//     both ways for `idleTimeoutMs` is closed. UDP: one session (one socket towards the upstream)
//     per client address and port, closed after `idleTimeoutMs` without a datagram either way; at
//     most `udpMaxSessions` at once, the longest-idle one is closed to make room.
//   - FTP: the control connection is read; passive replies (227/229) and active commands (PORT/EPRT)
//     are rewritten to Gatehouse's own address, data connections go through ports of `ftp.passivePorts`
//     opened on demand, and explicit FTPS (AUTH TLS) is terminated with a route's certificate.
//   - Access: the same exposure switch, access lists and country rules as HTTP routes, plus
//     CrowdSec and scanner bans; a refused connection is closed before a byte reaches the upstream
//     and logged with the rule.
//   - PROXY protocol: `proxyProtocol` v1/v2 is sent to the upstream first, so it sees the real
//     client; peers in proxy.proxyProtocolFrom must send one to Gatehouse (as on the HTTP ports).
// Imports nothing but zod and shared modules that do the same: this file is bundled into the renderer.
import { z } from 'zod';
import { AccessListIdSchema, CountryRulesSchema, EXPOSURES } from './access.js';

// ---------------------------------------------------------------------------------------------
// Kinds and presets

/** "ftp" is TCP that also understands FTP's control connection (see the file comment). */
export const STREAM_PROTOCOLS = ['tcp', 'udp', 'ftp'] as const;
export type StreamProtocol = (typeof STREAM_PROTOCOLS)[number];

/** The socket kind a protocol listens with: FTP is TCP. */
export function transportOf(protocol: StreamProtocol): 'tcp' | 'udp' {
  return protocol === 'udp' ? 'udp' : 'tcp';
}

export const STREAM_PRESET_IDS = ['ssh', 'sftp', 'ftp', 'ftps', 'minecraft', 'wireguard', 'dns', 'mqtt', 'custom'] as const;
export type StreamPresetId = (typeof STREAM_PRESET_IDS)[number];

export interface StreamPreset {
  id: StreamPresetId;
  label: string;
  protocol: StreamProtocol;
  /** The port the service usually listens on (and the listen port the form suggests). */
  port: number;
  /** In plain words, for the form: what it is and what to know. */
  hint: string;
  /** FTP presets: whether explicit FTPS is offered ("explicit") or required ("required"). */
  ftpTls?: FtpTlsMode;
  /** UDP presets: the probe the health check sends (hex) when it is a protocol with a cheap request. */
  udpProbeHex?: string;
}

/**
 * A DNS query for "." type NS, id 0x4748 ("GH"), recursion desired: any DNS server answers it
 * (REFUSED is an answer too), so it proves the server is there without depending on a zone.
 */
export const DNS_PROBE_HEX = '474801000001000000000000000002' + '0001';

export const STREAM_PRESETS: readonly StreamPreset[] = [
  { id: 'ssh', label: 'SSH', protocol: 'tcp', port: 22, hint: 'SSH carries no host name, so each server needs its own port (2222 → 10.33.0.5:22). Keep exposure on "this network" or allow only addresses you know.' },
  { id: 'sftp', label: 'SFTP', protocol: 'tcp', port: 22, hint: 'SFTP is SSH: forward a port to the server\'s SSH port.' },
  { id: 'ftp', label: 'FTP', protocol: 'ftp', port: 21, ftpTls: 'explicit', hint: 'Gatehouse rewrites the passive and active replies, so the FTP server keeps its LAN address and needs no setting changed. Open the passive port range too.' },
  { id: 'ftps', label: 'FTPS (explicit)', protocol: 'ftp', port: 21, ftpTls: 'required', hint: 'Gatehouse answers AUTH TLS with a route\'s certificate and talks plain FTP to the server on the LAN; logins without TLS are refused.' },
  { id: 'minecraft', label: 'Minecraft (Java)', protocol: 'tcp', port: 25565, hint: 'Java edition uses TCP 25565 (Bedrock uses UDP 19132: choose custom UDP).' },
  { id: 'wireguard', label: 'WireGuard', protocol: 'udp', port: 51820, hint: 'WireGuard answers only to its peers, so its health is judged by the port being reachable, not by a reply.' },
  { id: 'dns', label: 'DNS', protocol: 'udp', port: 53, udpProbeHex: DNS_PROBE_HEX, hint: 'DNS over UDP (add a TCP stream on the same port for large answers). Port 53 is below 1024: see docs/streams.md.' },
  { id: 'mqtt', label: 'MQTT', protocol: 'tcp', port: 1883, hint: 'MQTT brokers (Mosquitto) use 1883, or 8883 with TLS.' },
  { id: 'custom', label: 'Custom', protocol: 'tcp', port: 0, hint: 'Any TCP or UDP service.' },
];

// ---------------------------------------------------------------------------------------------
// Addresses

/**
 * Normalizes a stream upstream as typed into `host:port` (`[v6]:port` for IPv6): an IP address or a
 * host name, and a port from 1 to 65535. Returns the problem instead when it cannot be one.
 */
export function parseStreamAddress(input: string): { address: string; host: string; port: number } | { problem: string } {
  const text = input.trim();
  if (text === '') return { problem: 'enter the server\'s address and port, such as 10.33.0.5:22' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return { problem: `"${text}" has a scheme; a stream upstream is only host:port, such as 10.33.0.5:22` };
  const match = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!match) {
    if (/^[^:]+$/.test(text)) return { problem: `"${text}" has no port; write it as ${text}:PORT` };
    return { problem: `"${text}" is not host:port; write it as 10.33.0.5:22, nas.lan:21 or [fd00::5]:22` };
  }
  const host = (match[1] as string).toLowerCase();
  const port = Number(match[2]);
  if (!(port >= 1 && port <= 65535)) return { problem: `"${text}" has port ${match[2]}; a port is a number from 1 to 65535` };
  const v6 = text.startsWith('[');
  if (v6 && !z.ipv6().safeParse(host).success) return { problem: `"${host}" is not an IPv6 address` };
  if (!v6 && (host.startsWith('.') || host.endsWith('.') || host.includes('..') || host.startsWith('-'))) return { problem: `"${host}" is not a host name` };
  return { address: v6 ? `[${host}]:${port}` : `${host}:${port}`, host, port };
}

export const StreamAddressSchema = z.string({ error: 'enter the server\'s address and port, such as 10.33.0.5:22' }).transform((value, ctx) => {
  const parsed = parseStreamAddress(value);
  if ('problem' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.address;
});

/** A port a stream listens on: 1–65535 (0, "any free port", is not a port others can be told). */
export const ListenPortSchema = z
  .number({ error: 'a port is a whole number from 1 to 65535' })
  .int('a port is a whole number from 1 to 65535')
  .min(1, 'a port is a whole number from 1 to 65535')
  .max(65535, 'a port is a whole number from 1 to 65535');

/** Ports one stream may listen on at once (a range), and an FTP stream's passive range at most. */
export const MAX_RANGE_PORTS = 256;
export const MAX_PASSIVE_PORTS = 1000;

// ---------------------------------------------------------------------------------------------
// A stream's parts

export const StreamAccessSchema = z
  .object({
    /** Who may connect when no list entry decided: "lan" (this network only) or "anyone". Default: lan. */
    exposure: z.enum(EXPOSURES, { error: 'exposure is "lan" (this network only) or "anyone"' }).default('lan'),
    /** Access lists (ids), asked in this order, first matching entry decides. Default: none. */
    lists: z.array(AccessListIdSchema).max(8, 'attach at most 8 lists').default([]),
    countries: CountryRulesSchema.default({ mode: 'off', countries: [] }),
  })
  .strict();
export type StreamAccess = z.output<typeof StreamAccessSchema>;

export const PROXY_PROTOCOL_VERSIONS = ['off', 'v1', 'v2'] as const;
export type ProxyProtocolVersion = (typeof PROXY_PROTOCOL_VERSIONS)[number];
export const ProxyProtocolVersionSchema = z.enum(PROXY_PROTOCOL_VERSIONS, { error: 'PROXY protocol is "off", "v1" or "v2"' });

const HEX = /^(?:[0-9a-f]{2})+$/;

export const StreamHealthCheckSchema = z
  .object({
    /**
     * Check each upstream: TCP (and FTP) connect to it; UDP send `udpProbeHex` and wait for any
     * reply (without a probe a UDP upstream's state is "unknown": UDP has no connect). Default: true.
     */
    enabled: z.boolean().default(true),
    /** Seconds between checks of one upstream. Default: 10. */
    intervalSeconds: z.number().int('a whole number of seconds').min(2, 'check at most every 2 seconds').max(3600, 'check at least every hour').default(10),
    /** A check without an answer within this long fails. Default: 3000. */
    timeoutMs: z.number().int('a whole number of milliseconds').min(100, 'the check timeout must be at least 100 ms').max(60_000, 'the check timeout is at most 60000 ms').default(3000),
    /** UDP only: the datagram a check sends, as hex ("474801…"); null sends none. Default: null. */
    udpProbeHex: z
      .string()
      .trim()
      .transform((hex) => hex.replace(/\s+/g, '').toLowerCase())
      .pipe(z.string().max(1024, 'a probe has at most 512 bytes').regex(HEX, 'write the probe as hex bytes, such as 474801000001'))
      .nullable()
      .default(null),
  })
  .strict();
export type StreamHealthCheck = z.output<typeof StreamHealthCheckSchema>;

export const FTP_TLS_MODES = ['off', 'explicit', 'required'] as const;
/** off: plain FTP only; explicit: AUTH TLS offered; required: a login without AUTH TLS is refused. */
export type FtpTlsMode = (typeof FTP_TLS_MODES)[number];

export const FtpOptionsSchema = z
  .object({
    /** The ports Gatehouse opens, one per data connection, for passive and active transfers. */
    passivePortFrom: ListenPortSchema,
    passivePortTo: ListenPortSchema,
    /** Explicit FTPS terminated by Gatehouse. Default: explicit (offered, not required). */
    tls: z.enum(FTP_TLS_MODES, { error: 'FTPS is "off", "explicit" or "required"' }).default('explicit'),
    /** The route whose certificate answers AUTH TLS (a route with HTTPS for the name clients use); null with tls off. */
    certificateRouteId: z.string().min(1).max(100).nullable().default(null),
    /**
     * The address put in passive replies (227). Default: null, the address the client connected to,
     * which is right unless a router forwards the ports from a public address.
     */
    publicAddress: z.union([z.ipv4(), z.ipv6()], { error: 'enter an IP address, such as 203.0.113.7' }).nullable().default(null),
    /** Let clients use active mode (PORT/EPRT): Gatehouse connects back to them. Default: true. */
    allowActive: z.boolean().default(true),
  })
  .strict()
  .superRefine((ftp, ctx) => {
    if (ftp.passivePortTo < ftp.passivePortFrom) ctx.addIssue({ code: 'custom', path: ['passivePortTo'], message: 'the passive range ends below where it starts' });
    else if (ftp.passivePortTo - ftp.passivePortFrom + 1 > MAX_PASSIVE_PORTS) ctx.addIssue({ code: 'custom', path: ['passivePortTo'], message: `a passive range has at most ${MAX_PASSIVE_PORTS} ports` });
    if (ftp.tls !== 'off' && ftp.certificateRouteId === null) ctx.addIssue({ code: 'custom', path: ['certificateRouteId'], message: 'FTPS needs a certificate: choose the route (with HTTPS) whose name FTP clients use' });
    if (ftp.tls === 'off' && ftp.certificateRouteId !== null) ctx.addIssue({ code: 'custom', path: ['certificateRouteId'], message: 'a certificate is chosen only with FTPS on' });
  });
export type FtpOptions = z.output<typeof FtpOptionsSchema>;

/** Default idle timeouts: TCP sessions (SSH, FTP) may sit quiet for long; UDP "sessions" are guesses. */
export const DEFAULT_TCP_IDLE_MS = 3_600_000;
export const DEFAULT_UDP_IDLE_MS = 60_000;
export const DEFAULT_UDP_MAX_SESSIONS = 1024;

const streamFields = {
  /** What the user calls it ("NAS SSH"); shown in the UI and the log. */
  title: z.string().trim().min(1, 'give the stream a name, such as NAS SSH').max(80, 'a name has at most 80 characters'),
  /** The preset it was made from, for the icon and hints. Default: custom. */
  preset: z.enum(STREAM_PRESET_IDS, { error: 'choose a preset or custom' }).default('custom'),
  protocol: z.enum(STREAM_PROTOCOLS, { error: 'a stream is "tcp", "udp" or "ftp"' }),
  /** A disabled stream is kept but listens on nothing. Default: true. */
  enabled: z.boolean().default(true),
  listenPort: ListenPortSchema,
  /** The last port of a range (inclusive), or null for one port. Default: null. */
  listenPortEnd: ListenPortSchema.nullable().default(null),
  /** 1–8 `host:port`, failover in order; for a range, the port of the range's first listen port. */
  upstreams: z
    .array(StreamAddressSchema)
    .min(1, 'a stream needs a server to forward to, such as 10.33.0.5:22')
    .max(8, 'a stream has at most 8 upstreams')
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      for (const [i, address] of list.entries()) {
        if (seen.has(address)) ctx.addIssue({ code: 'custom', path: [i], message: `${address} is listed twice` });
        seen.add(address);
      }
    }),
  /** Connecting to an upstream may take this long before the next one is tried (or the client is closed). Default: 5000. */
  connectTimeoutMs: z.number().int().min(100, 'the connect timeout must be at least 100 ms').max(120_000, 'the connect timeout is at most 120000 ms').default(5000),
  /** Closed after this long without a byte (or datagram) either way; null: 1 h for TCP/FTP, 60 s for UDP. */
  idleTimeoutMs: z.number().int().min(1000, 'the idle timeout must be at least 1000 ms').max(7 * 86_400_000, 'the idle timeout is at most 7 days').nullable().default(null),
  /**
   * UDP only: client sessions at once; the longest-idle one is closed to make room (never one active
   * within the last second; one client address holds at most max(16, this / 8)). Default: 1024.
   */
  udpMaxSessions: z.number().int().min(1, 'allow at least 1 session').max(65_536, 'at most 65536 sessions').default(DEFAULT_UDP_MAX_SESSIONS),
  /** Send a PROXY protocol header to the upstream (TCP and FTP control connections). Default: off. */
  proxyProtocol: ProxyProtocolVersionSchema.default('off'),
  access: StreamAccessSchema.default(() => StreamAccessSchema.parse({})),
  healthCheck: StreamHealthCheckSchema.default(() => StreamHealthCheckSchema.parse({})),
  /** FTP streams only (required there). Default: null. */
  ftp: FtpOptionsSchema.nullable().default(null),
};

type StreamShape = {
  protocol: StreamProtocol;
  listenPort: number;
  listenPortEnd: number | null;
  proxyProtocol: ProxyProtocolVersion;
  healthCheck: StreamHealthCheck;
  ftp: FtpOptions | null;
};

function checkStream(stream: StreamShape, ctx: z.RefinementCtx): void {
  if (stream.listenPortEnd !== null) {
    if (stream.listenPortEnd <= stream.listenPort) ctx.addIssue({ code: 'custom', path: ['listenPortEnd'], message: 'a range ends above where it starts; leave it empty for one port' });
    else if (stream.listenPortEnd - stream.listenPort + 1 > MAX_RANGE_PORTS) ctx.addIssue({ code: 'custom', path: ['listenPortEnd'], message: `a range has at most ${MAX_RANGE_PORTS} ports` });
    if (stream.protocol === 'ftp') ctx.addIssue({ code: 'custom', path: ['listenPortEnd'], message: 'an FTP stream listens on one port (its data ports are the passive range)' });
  }
  if (stream.protocol === 'ftp' && stream.ftp === null) ctx.addIssue({ code: 'custom', path: ['ftp'], message: 'an FTP stream needs a passive port range, such as 30000–30049' });
  if (stream.protocol !== 'ftp' && stream.ftp !== null) ctx.addIssue({ code: 'custom', path: ['ftp'], message: 'FTP options belong to FTP streams only' });
  if (stream.protocol === 'udp' && stream.proxyProtocol !== 'off') ctx.addIssue({ code: 'custom', path: ['proxyProtocol'], message: 'the PROXY protocol is sent on TCP streams only' });
  if (stream.protocol !== 'udp' && stream.healthCheck.udpProbeHex !== null) ctx.addIssue({ code: 'custom', path: ['healthCheck', 'udpProbeHex'], message: 'a probe datagram is for UDP streams; TCP streams are checked by connecting' });
  if (stream.ftp) {
    const { passivePortFrom, passivePortTo } = stream.ftp;
    if (stream.listenPort >= passivePortFrom && stream.listenPort <= passivePortTo) ctx.addIssue({ code: 'custom', path: ['ftp', 'passivePortFrom'], message: `the passive range includes the control port ${stream.listenPort}` });
  }
}

const streamObject = z.object(streamFields).strict();

/** What a person (or the API) supplies to create or replace a stream. */
export const StreamInputSchema = streamObject.superRefine(checkStream);
export type StreamInput = z.input<typeof StreamInputSchema>;

export const StreamIdSchema = z.string({ error: 'a stream id is required' }).min(1, 'a stream id is required').max(100, 'a stream id has at most 100 characters');

export const StreamUpdateSchema = streamObject.extend({ id: StreamIdSchema }).strict().superRefine(checkStream);

/** A stored stream. `id` is assigned by Gatehouse and never changes. */
export const StreamSchema = streamObject.extend({ id: StreamIdSchema }).strict().superRefine(checkStream);
export type Stream = z.output<typeof StreamSchema>;

/** At most this many streams. */
export const MAX_STREAMS = 100;

/** The idle timeout in force: the stream's own, or its protocol's default. */
export function effectiveIdleMs(stream: Pick<Stream, 'idleTimeoutMs' | 'protocol'>): number {
  return stream.idleTimeoutMs ?? (stream.protocol === 'udp' ? DEFAULT_UDP_IDLE_MS : DEFAULT_TCP_IDLE_MS);
}

/** Every port the stream listens on, in order. */
export function listenPorts(stream: Pick<Stream, 'listenPort' | 'listenPortEnd'>): number[] {
  const end = stream.listenPortEnd ?? stream.listenPort;
  const ports: number[] = [];
  for (let port = stream.listenPort; port <= end; port++) ports.push(port);
  return ports;
}

/** "2222", "27015–27020". */
export function portText(from: number, to: number | null): string {
  return to === null || to === from ? String(from) : `${from}–${to}`;
}

/** Ports a listener holds, by transport, as the overlap checks see them. */
export interface PortClaim {
  transport: 'tcp' | 'udp';
  from: number;
  to: number;
  /** In words, for the error: `stream "NAS SSH"`, `the FTP passive range of "NAS FTP"`, `the proxy's HTTPS port`. */
  owner: string;
}

/** What each stream holds: its listen port(s), and an FTP stream's passive range. */
export function streamClaims(stream: Pick<Stream, 'title' | 'protocol' | 'listenPort' | 'listenPortEnd' | 'ftp' | 'enabled'>): PortClaim[] {
  if (!stream.enabled) return [];
  const claims: PortClaim[] = [{ transport: transportOf(stream.protocol), from: stream.listenPort, to: stream.listenPortEnd ?? stream.listenPort, owner: `stream "${stream.title}"` }];
  if (stream.ftp) claims.push({ transport: 'tcp', from: stream.ftp.passivePortFrom, to: stream.ftp.passivePortTo, owner: `the FTP passive range of "${stream.title}"` });
  return claims;
}

/**
 * The first clash among `claims` (same transport, overlapping ports), in words naming both owners
 * and the port, or null. Ports 0 ("any free port", tests) never clash. The first `fixed` claims
 * (the proxy's own ports, checked elsewhere) are compared with the others, not with each other.
 */
export function portClash(claims: readonly PortClaim[], fixed = 0): { message: string; a: PortClaim; b: PortClaim } | null {
  for (let i = 0; i < claims.length; i++) {
    for (let j = Math.max(i + 1, fixed); j < claims.length; j++) {
      const a = claims[i] as PortClaim;
      const b = claims[j] as PortClaim;
      if (a.transport !== b.transport || a.from === 0 || b.from === 0) continue;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to, b.to);
      if (from > to) continue;
      const port = from === to ? `port ${from}` : `ports ${from}–${to}`;
      return { a, b, message: `${a.owner} and ${b.owner} both use ${a.transport.toUpperCase()} ${port}; choose another port for one of them` };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// What the API reports

export type StreamState = 'listening' | 'stopped' | 'disabled' | 'failed';

export interface StreamUpstreamHealth {
  /** `host:port` as configured. */
  address: string;
  /** From the check; unknown before the first, with checks off, and for UDP without a probe. */
  state: 'up' | 'down' | 'unknown';
  /** ISO time the state last changed; null while unknown. */
  since: string | null;
  /** The last check; null before the first. */
  lastCheck: { at: string; passed: boolean; check: string; error: string | null; latencyMs: number } | null;
  /** New connections go here now. */
  active: boolean;
}

export interface StreamStatus {
  streamId: string;
  state: StreamState;
  /** Why it is not listening (a port taken, a port below 1024 without the right), with the fix; null otherwise. */
  problem: { code: string; message: string; fix: string } | null;
  /** Open now: TCP connections / FTP sessions, or UDP sessions. */
  open: number;
  /** Since the proxy started. */
  total: number;
  /** Refused by access rules, since the proxy started. */
  refused: number;
  /** Connections that could not reach any upstream, since the proxy started. */
  failed: number;
  /** Bytes from clients to the upstream, and back, since the proxy started (FTP: data connections included). */
  bytesIn: number;
  bytesOut: number;
  /** Each upstream, in order. */
  upstreams: StreamUpstreamHealth[];
  /** Health: up while one upstream is up; down when all are; unknown otherwise. */
  health: 'up' | 'down' | 'unknown';
}

/** A stream and how it is doing: what listStreams returns, one per stream in settings order. */
export interface StreamView {
  stream: Stream;
  status: StreamStatus;
}
