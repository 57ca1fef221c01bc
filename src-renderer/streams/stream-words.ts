// What the dashboard and the stream form say about a stream, in one place: its kind, ports, where it
// forwards, its state and health in words, and its numbers in human units. A table row (wide
// screens) and a card (phones) use the same words.
import { portText, STREAM_PRESETS, type Stream, type StreamPreset, type StreamPresetId, type StreamProtocol, type StreamState, type StreamStatus, type StreamUpstreamHealth } from '../../shared/streams.js';

export const PROTOCOL_LABELS: Record<StreamProtocol, string> = { tcp: 'TCP', udp: 'UDP', ftp: 'FTP' };

/** A two-letter badge per preset: readable without an icon font, and the same on every system. */
export const PRESET_BADGES: Record<StreamPresetId, string> = {
  ssh: '>_',
  sftp: 'SF',
  ftp: 'FT',
  ftps: 'FS',
  minecraft: 'MC',
  wireguard: 'WG',
  dns: 'DN',
  mqtt: 'MQ',
  custom: '··',
};

export function presetOf(id: StreamPresetId): StreamPreset {
  return STREAM_PRESETS.find((preset) => preset.id === id) ?? (STREAM_PRESETS.at(-1) as StreamPreset);
}

export const STATE_TEXT: Record<StreamState, string> = {
  listening: 'Listening',
  failed: 'Not listening',
  disabled: 'Disabled',
  stopped: 'Stopped',
};

/** Why a stream in this state is not listening, when the state alone says it. */
export const STATE_REASON: Partial<Record<StreamState, string>> = {
  disabled: 'Turned off: its settings are kept, it listens on nothing.',
  stopped: 'The proxy is stopped; the stream listens again when it starts.',
};

export const HEALTH_TEXT: Record<StreamStatus['health'], string> = { up: 'Up', down: 'Down', unknown: 'Unknown' };

/** "TCP 2222", "UDP 27015–27020". */
export function listenText(stream: Pick<Stream, 'protocol' | 'listenPort' | 'listenPortEnd'>): string {
  return `${PROTOCOL_LABELS[stream.protocol]} ${portText(stream.listenPort, stream.listenPortEnd)}`;
}

/** "10.33.0.8:27015–27020" for a range (each port to the same offset), the address itself otherwise. */
export function upstreamText(address: string, listenPort: number, listenPortEnd: number | null): string {
  if (listenPortEnd === null || listenPortEnd === listenPort) return address;
  const match = /^(.*):(\d+)$/.exec(address);
  if (!match) return address;
  const first = Number(match[2]);
  return `${match[1]}:${first}–${first + (listenPortEnd - listenPort)}`;
}

/** "27015–27020 → 10.33.0.8:27015–27020 (one to one)": how a range maps onto an upstream. */
export function rangeMapping(listenPort: number, listenPortEnd: number, address: string): string {
  const match = /:(\d+)$/.exec(address);
  const shift = match ? Number(match[1]) - listenPort : 0;
  const how = shift === 0 ? 'one to one' : `each port shifted by ${shift > 0 ? '+' : ''}${shift}`;
  return `${portText(listenPort, listenPortEnd)} → ${upstreamText(address, listenPort, listenPortEnd)} (${how})`;
}

/** "just now", "12 s ago", "4 min ago", "3 h ago", "2 days ago". */
export function agoText(iso: string, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  const days = Math.round(seconds / 86_400);
  return `${days} ${days === 1 ? 'day' : 'days'} ago`;
}

/** One upstream's last check in words: "connected in 2 ms, 5 s ago", "failed: refused, 5 s ago", "not checked yet". */
export function lastCheckText(upstream: StreamUpstreamHealth, now: Date = new Date()): string {
  const check = upstream.lastCheck;
  if (!check) return 'not checked yet';
  const when = agoText(check.at, now);
  return check.passed ? `${check.check} passed in ${Math.round(check.latencyMs)} ms, ${when}` : `${check.check} failed${check.error ? `: ${check.error}` : ''}, ${when}`;
}

/** The stream's health line: "Up, checked 5 s ago" / "Down: …" / "Unknown: UDP without a probe". */
export function healthLine(stream: Pick<Stream, 'protocol' | 'healthCheck'>, status: StreamStatus, now: Date = new Date()): string {
  const checks = status.upstreams.map((upstream) => upstream.lastCheck?.at).filter((at): at is string => typeof at === 'string');
  const latest = checks.sort().at(-1);
  if (status.health === 'unknown') {
    if (!stream.healthCheck.enabled) return 'Unknown: health checks are off';
    if (stream.protocol === 'udp' && stream.healthCheck.udpProbeHex === null) return 'Unknown: UDP has no connect; add a probe to check it';
    return latest ? `Unknown, checked ${agoText(latest, now)}` : 'Unknown: not checked yet';
  }
  return `${HEALTH_TEXT[status.health]}${latest ? `, checked ${agoText(latest, now)}` : ''}`;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** "0 B", "950 B", "1.2 kB", "34 MB", "1.1 GB" (SI units, as disks and networks count). */
export function bytesText(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const text = value.toFixed(digits).replace(/\.0$/, '');
  return `${text} ${UNITS[unit]}`;
}

/** "12,345": counters with the reader's grouping. */
export function countText(count: number): string {
  return count.toLocaleString('en-US');
}

/** What a stream's numbers column/card says, in the same words everywhere. */
export interface StreamNumbers {
  open: string;
  /** What "open" counts for this protocol, for a tooltip. */
  openTitle: string;
  total: string;
  refused: string;
  bytesIn: string;
  bytesOut: string;
}

export function streamNumbers(stream: Pick<Stream, 'protocol'>, status: StreamStatus): StreamNumbers {
  return {
    open: countText(status.open),
    openTitle: stream.protocol === 'udp' ? 'client sessions open now' : stream.protocol === 'ftp' ? 'FTP sessions open now' : 'connections open now',
    total: countText(status.total),
    refused: countText(status.refused),
    bytesIn: bytesText(status.bytesIn),
    bytesOut: bytesText(status.bytesOut),
  };
}

/** Under the streams: what each number counts. */
export const STREAM_NUMBERS_EXPLAINED =
  'Open: connections (UDP: client sessions) now. Total and Refused: since Gatehouse started; refused by access rules before a byte reached the server. In: from clients to the server; Out: back to clients.';

/** "Port 21 is below 1024…": a problem's message as the first words of a sentence. */
export function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The tag of a stream open to anyone on the internet. */
export function openToInternet(stream: Pick<Stream, 'access'>): boolean {
  return stream.access.exposure === 'anyone';
}
