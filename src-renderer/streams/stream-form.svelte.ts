// The add/edit stream form: a preset first (it fills the protocol, a suggested port, the hints and,
// for DNS, the health probe), then what the person typed, checked by the shared StreamInputSchema
// (no rule is repeated here), and the server's verdict put back on the fields it names (paths such
// as `listenPort`, `ftp.passivePortFrom`, `streams.2.ftp.certificateRouteId` or `streams` for two
// streams on one port).
import { ApiError, type FieldIssue } from '../../shared/api.js';
import type { CountryRules, Exposure } from '../../shared/access.js';
import {
  DEFAULT_UDP_MAX_SESSIONS,
  StreamInputSchema,
  type FtpTlsMode,
  type ProxyProtocolVersion,
  type Stream,
  type StreamInput,
  type StreamPresetId,
  type StreamProtocol,
  type StreamView,
} from '../../shared/streams.js';

/** The schema's limit on a stream's upstreams (failover order). */
export const MAX_STREAM_UPSTREAMS = 8;
import { asApiError, splitIssues, zodIssues } from '../app/errors.js';
import { FieldErrors, submitChecked } from '../app/field-errors.svelte.js';
import { presetOf, rangeMapping } from './stream-words.js';

export interface StreamFormValues {
  preset: StreamPresetId;
  title: string;
  protocol: StreamProtocol;
  enabled: boolean;
  /** "2222" or "27015-27020" as typed. */
  ports: string;
  /** 1–8 `host:port`, in failover order. */
  upstreams: string[];
  /** Milliseconds as typed. */
  connectTimeoutMs: string;
  /** Seconds as typed; empty = the protocol's default. */
  idleTimeoutS: string;
  udpMaxSessions: string;
  proxyProtocol: ProxyProtocolVersion;
  access: { exposure: Exposure; lists: string[]; countries: CountryRules };
  health: { enabled: boolean; intervalSeconds: string; timeoutMs: string; udpProbeHex: string };
  ftp: { passivePorts: string; tls: FtpTlsMode; certificateRouteId: string | null; publicAddress: string; allowActive: boolean };
}

/** The controls a problem can land on. */
export const streamFields = [
  'title',
  'preset',
  'protocol',
  'ports',
  'upstreams',
  'connectTimeoutMs',
  'idleTimeoutS',
  'udpMaxSessions',
  'proxyProtocol',
  'access',
  'accessLists',
  'accessCountries',
  'health.intervalSeconds',
  'health.timeoutMs',
  'health.udpProbeHex',
  'ftp',
  'ftp.passivePorts',
  'ftp.tls',
  'ftp.certificateRouteId',
  'ftp.publicAddress',
] as const;
export type StreamField = (typeof streamFields)[number] | `upstreams.${number}`;

/**
 * The field a dotted issue path belongs to, or null (the page's alert). A path from the settings
 * file's cross-checks starts with `streams.N.`; `streams` alone is a port clash between two streams
 * (or a stream and the proxy), which the person fixes at the listen port.
 */
export function streamFieldOf(path: string): StreamField | null {
  if (path === 'streams') return 'ports';
  const own = path.replace(/^streams\.\d+\./, '');
  const [first = '', second = ''] = own.split('.');
  switch (first) {
    case 'title':
    case 'preset':
    case 'protocol':
    case 'connectTimeoutMs':
    case 'udpMaxSessions':
    case 'proxyProtocol':
      return first;
    case 'listenPort':
    case 'listenPortEnd':
      return 'ports';
    case 'idleTimeoutMs':
      return 'idleTimeoutS';
    case 'upstreams':
      return /^\d+$/.test(second) ? `upstreams.${Number(second)}` : 'upstreams';
    case 'access':
      return second === 'lists' ? 'accessLists' : second === 'countries' ? 'accessCountries' : 'access';
    case 'healthCheck':
      return second === 'intervalSeconds' || second === 'timeoutMs' || second === 'udpProbeHex' ? `health.${second}` : null;
    case 'ftp':
      if (second === 'passivePortFrom' || second === 'passivePortTo') return 'ftp.passivePorts';
      if (second === 'tls' || second === 'certificateRouteId' || second === 'publicAddress') return `ftp.${second}`;
      return 'ftp';
    default:
      return null;
  }
}

/** "2222" → 2222; "27015-27020" (or –, or with spaces) → a range; anything else → the problem. */
export function parsePorts(text: string): { from: number; to: number | null } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { problem: 'enter a port, such as 2222, or a range, such as 27015-27020' };
  const match = /^(\d{1,5})(?:\s*[-–—]\s*(\d{1,5}))?$/.exec(trimmed);
  if (!match) return { problem: `"${trimmed}" is not a port or a range; write 2222, or 27015-27020 for a range` };
  const from = Number(match[1]);
  const to = match[2] === undefined ? null : Number(match[2]);
  return { from, to: to === from ? null : to };
}

/** 2222 → "2222"; 27015, 27020 → "27015-27020" (what the field shows; typed with a plain hyphen). */
export function formatPorts(from: number, to: number | null): string {
  return to === null || to === from ? String(from) : `${from}-${to}`;
}

/** A whole number as typed, or NaN (so the schema's own message names the problem). */
function wholeNumber(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

/** The values a new stream starts from: a preset's protocol, port and probe. */
export function presetValues(id: StreamPresetId, current?: StreamFormValues): StreamFormValues {
  const preset = presetOf(id);
  const base = current ?? emptyStreamValues();
  const ftp = preset.protocol === 'ftp';
  return {
    ...base,
    preset: id,
    protocol: preset.protocol,
    ports: preset.port > 0 ? String(suggestedListenPort(id)) : base.ports,
    proxyProtocol: preset.protocol === 'udp' ? 'off' : base.proxyProtocol,
    health: { ...base.health, udpProbeHex: preset.protocol === 'udp' ? (preset.udpProbeHex ?? '') : '' },
    ftp: { ...base.ftp, tls: ftp ? (preset.ftpTls ?? 'explicit') : base.ftp.tls },
  };
}

/**
 * The listen port the form suggests: the service's own port when it is 1024 or above; below 1024
 * a high port people recognise (2222 for SSH), since low ports need a right most setups lack.
 */
export function suggestedListenPort(id: StreamPresetId): number {
  const port = presetOf(id).port;
  return port >= 1024 ? port : highPortFor(port);
}

/** A port from 1024 up people recognise for a low one: 22 → 2222, 21 → 2121, 53 → 1053 (5353 is mDNS), else +10000. */
export function highPortFor(port: number): number {
  const known: Record<number, number> = { 21: 2121, 22: 2222, 53: 1053, 80: 8080, 443: 8443 };
  return known[port] ?? port + 10_000;
}

export function emptyStreamValues(): StreamFormValues {
  return {
    preset: 'custom',
    title: '',
    protocol: 'tcp',
    enabled: true,
    ports: '',
    upstreams: [''],
    connectTimeoutMs: '5000',
    idleTimeoutS: '',
    udpMaxSessions: String(DEFAULT_UDP_MAX_SESSIONS),
    proxyProtocol: 'off',
    access: { exposure: 'lan', lists: [], countries: { mode: 'off', countries: [] } },
    health: { enabled: true, intervalSeconds: '10', timeoutMs: '3000', udpProbeHex: '' },
    ftp: { passivePorts: '30000-30049', tls: 'explicit', certificateRouteId: null, publicAddress: '', allowActive: true },
  };
}

export function streamValuesOf(stream: Stream): StreamFormValues {
  const empty = emptyStreamValues();
  return {
    preset: stream.preset,
    title: stream.title,
    protocol: stream.protocol,
    enabled: stream.enabled,
    ports: formatPorts(stream.listenPort, stream.listenPortEnd),
    upstreams: [...stream.upstreams],
    connectTimeoutMs: String(stream.connectTimeoutMs),
    idleTimeoutS: stream.idleTimeoutMs === null ? '' : String(stream.idleTimeoutMs / 1000),
    udpMaxSessions: String(stream.udpMaxSessions),
    proxyProtocol: stream.proxyProtocol,
    access: structuredClone(stream.access),
    health: {
      enabled: stream.healthCheck.enabled,
      intervalSeconds: String(stream.healthCheck.intervalSeconds),
      timeoutMs: String(stream.healthCheck.timeoutMs),
      udpProbeHex: stream.healthCheck.udpProbeHex ?? '',
    },
    ftp: stream.ftp
      ? {
          passivePorts: formatPorts(stream.ftp.passivePortFrom, stream.ftp.passivePortTo),
          tls: stream.ftp.tls,
          certificateRouteId: stream.ftp.certificateRouteId,
          publicAddress: stream.ftp.publicAddress ?? '',
          allowActive: stream.ftp.allowActive,
        }
      : empty.ftp,
  };
}

/** What the values mean as API input; parts that do not apply to the protocol are left at their defaults. */
export function streamInputFrom(values: StreamFormValues): StreamInput {
  const ports = parsePorts(values.ports);
  const passive = parsePorts(values.ftp.passivePorts);
  const idle = values.idleTimeoutS.trim();
  const ftp = values.protocol === 'ftp';
  const udp = values.protocol === 'udp';
  return {
    title: values.title,
    preset: values.preset,
    protocol: values.protocol,
    enabled: values.enabled,
    listenPort: 'problem' in ports ? Number.NaN : ports.from,
    listenPortEnd: 'problem' in ports ? null : ports.to,
    upstreams: values.upstreams.map((address) => address.trim()),
    connectTimeoutMs: wholeNumber(values.connectTimeoutMs),
    idleTimeoutMs: idle === '' ? null : /^\s*\d+(\.\d+)?\s*$/.test(idle) ? Math.round(Number(idle) * 1000) : Number.NaN,
    udpMaxSessions: udp ? wholeNumber(values.udpMaxSessions) : DEFAULT_UDP_MAX_SESSIONS,
    proxyProtocol: udp ? 'off' : values.proxyProtocol,
    access: { exposure: values.access.exposure, lists: [...values.access.lists], countries: { mode: values.access.countries.mode, countries: [...values.access.countries.countries] } },
    healthCheck: {
      enabled: values.health.enabled,
      intervalSeconds: wholeNumber(values.health.intervalSeconds),
      timeoutMs: wholeNumber(values.health.timeoutMs),
      udpProbeHex: udp && values.health.udpProbeHex.trim() !== '' ? values.health.udpProbeHex : null,
    },
    ftp: ftp
      ? {
          passivePortFrom: 'problem' in passive ? Number.NaN : passive.from,
          passivePortTo: 'problem' in passive ? Number.NaN : (passive.to ?? passive.from),
          tls: values.ftp.tls,
          certificateRouteId: values.ftp.tls === 'off' ? null : values.ftp.certificateRouteId,
          publicAddress: values.ftp.publicAddress.trim() || null,
          allowActive: values.ftp.allowActive,
        }
      : null,
  };
}

/** Problems the form sees in text before the schema does (what it could not turn into a number). */
function textIssues(values: StreamFormValues): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const ports = parsePorts(values.ports);
  if ('problem' in ports) issues.push({ path: 'listenPort', message: ports.problem });
  if (values.protocol === 'ftp') {
    const passive = parsePorts(values.ftp.passivePorts);
    if ('problem' in passive) issues.push({ path: 'ftp.passivePortFrom', message: passive.problem.replace('such as 2222, or a range, such as 27015-27020', 'range, such as 30000-30049') });
  }
  if (values.idleTimeoutS.trim() !== '' && !/^\s*\d+(\.\d+)?\s*$/.test(values.idleTimeoutS)) issues.push({ path: 'idleTimeoutMs', message: 'enter seconds, such as 3600, or leave it empty for the default' });
  return issues;
}

/** Lower ports need a right on Linux: said before saving, with the fix. */
export function lowPortHint(values: Pick<StreamFormValues, 'ports' | 'protocol' | 'ftp'>): string | null {
  const ports = parsePorts(values.ports);
  const low: number[] = [];
  if (!('problem' in ports) && ports.from >= 1 && ports.from < 1024) low.push(ports.from);
  if (values.protocol === 'ftp') {
    const passive = parsePorts(values.ftp.passivePorts);
    if (!('problem' in passive) && passive.from >= 1 && passive.from < 1024) low.push(passive.from);
  }
  if (low.length === 0) return null;
  const port = low[0]!;
  return `Port ${port} is below 1024: on Linux Gatehouse may listen there only with the right to bind low ports, so the stream would fail to start. Fix: choose a port from 1024 up (such as ${highPortFor(port)}) and forward port ${port} on your router to it, or give Node the right once: sudo setcap 'cap_net_bind_service=+ep' "$(command -v node)"`;
}

/** What the upstreams mean for a range: "27015–27020 → 10.33.0.8:27015–27020 (one to one)"; null for one port. */
export function rangeExplained(values: Pick<StreamFormValues, 'ports' | 'upstreams'>): string | null {
  const ports = parsePorts(values.ports);
  if ('problem' in ports || ports.to === null || ports.to <= ports.from) return null;
  const first = values.upstreams.find((address) => /:\d+$/.test(address.trim()));
  if (!first) return `Each port of ${ports.from}–${ports.to} goes to the same offset from the upstream's port: 10.33.0.8:${ports.from} maps one to one.`;
  return rangeMapping(ports.from, ports.to, first.trim());
}

type Check = { ok: true; input: StreamInput; errors: Partial<Record<StreamField, string>> } | { ok: false; errors: Partial<Record<StreamField, string>>; rest: FieldIssue[] };

function check(values: StreamFormValues): Check {
  const result = StreamInputSchema.safeParse(streamInputFrom(values));
  const issues = [...textIssues(values), ...(result.success ? [] : zodIssues(result.error))];
  if (result.success && issues.length === 0) return { ok: true, input: result.data as StreamInput, errors: {} };
  const { fields, rest } = splitIssues(issues, streamFieldOf);
  return { ok: false, errors: fields, rest };
}

export class StreamForm {
  values = $state<StreamFormValues>(emptyStreamValues());
  error = $state.raw<ApiError | null>(null);
  errorIssues = $state.raw<FieldIssue[]>([]);
  saving = $state(false);

  readonly #check = $derived(check(this.values));
  readonly fieldErrors = new FieldErrors<StreamField>(() => this.#check.errors, streamFieldOf);
  readonly lowPort = $derived(lowPortHint(this.values));
  readonly mapping = $derived(rangeExplained(this.values));

  constructor(initial: StreamFormValues = emptyStreamValues()) {
    this.values = initial;
  }

  message(field: StreamField): string | null {
    return this.fieldErrors.message(field);
  }

  /** Picks a preset: protocol, suggested port, probe and FTPS mode follow; the title, a chosen port and the servers stay. */
  choosePreset(id: StreamPresetId): void {
    const before = this.values.preset;
    const next = presetValues(id, $state.snapshot(this.values) as StreamFormValues);
    // A title that was the old preset's label follows the new preset; one the person typed stays.
    if (next.title.trim() === '' || next.title === presetOf(before).label) next.title = id === 'custom' ? '' : presetOf(id).label;
    // A port the person chose (not the old preset's suggestion) stays: relabelling a stream must not move it.
    const typed = this.values.ports.trim();
    if (typed !== '' && typed !== String(suggestedListenPort(before))) next.ports = this.values.ports;
    this.values = next;
    for (const field of ['ports', 'protocol', 'preset', 'ftp', 'health.udpProbeHex'] as const) this.fieldErrors.edited(field);
  }

  addUpstream(): void {
    if (this.values.upstreams.length < MAX_STREAM_UPSTREAMS) this.values.upstreams.push('');
  }

  removeUpstream(index: number): void {
    this.#rowsChanged();
    if (this.values.upstreams.length === 1) this.values.upstreams[0] = '';
    else this.values.upstreams.splice(index, 1);
  }

  moveUpstream(index: number, by: -1 | 1): void {
    const rows = this.values.upstreams;
    const target = index + by;
    if (target < 0 || target >= rows.length) return;
    this.#rowsChanged();
    [rows[index], rows[target]] = [rows[target]!, rows[index]!];
  }

  #rowsChanged(): void {
    for (let i = 0; i < this.values.upstreams.length; i += 1) this.fieldErrors.edited(`upstreams.${i}`);
    this.fieldErrors.edited('upstreams');
  }

  /** Validates, then saves; the saved stream with its status, or null when the form shows why not. */
  async submit(save: (input: StreamInput) => Promise<StreamView>): Promise<StreamView | null> {
    return submitChecked(this, this.#check, 'stream', save);
  }
}
