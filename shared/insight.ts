// What Gatehouse shows about what it did: traffic history per route and upstream (kept on disk),
// the searchable access log, the route doctor, the request inspector, backups that restore
// everything, and moving in from Nginx Proxy Manager. Schemas for inputs and the `insight` settings
// section live here; the results are plain types (the core makes them, the UI reads them).
import { z } from 'zod';
import type { AccessLogEntry } from './status.js';

// ---------------------------------------------------------------------------------------------
// History

export const HISTORY_RANGES = ['1h', '24h', '30d'] as const;
export type HistoryRange = (typeof HISTORY_RANGES)[number];
export const HistoryRangeSchema = z.enum(HISTORY_RANGES, { error: 'choose a range: 1h, 24h or 30d' });

/**
 * One series over a range, as columns (what a chart takes): `times[i]` is the start of bucket i in
 * Unix seconds, every other array has the same length. The 1 h and 24 h ranges come from the
 * 10-second store (24 h at 1-minute or coarser steps, merged), 30 d from the 5-minute store.
 */
export interface HistorySeries {
  times: number[];
  /**
   * Requests that finished in the bucket; null where Gatehouse was not running (a gap, not a zero).
   * Upgraded connections (WebSocket) are counted in `upgraded`, not here.
   */
  requests: (number | null)[];
  /** Answers 400–499 (the upstream's or Gatehouse's own refusals that reached the service). */
  errors4xx: number[];
  /** Answers 500–599 sent by the upstream. */
  errors5xx: number[];
  /** Failures Gatehouse answered itself: upstream refused, timed out, reset, no healthy upstream (502/503/504). */
  proxyErrors: number[];
  /** Requests refused before the service (access, limits, sign-in, scanner bans). */
  refused: number[];
  bytesIn: number[];
  bytesOut: number[];
  /** Upgraded connections (WebSocket) that closed in the bucket; never part of the latencies. */
  upgraded: number[];
  /** Latency percentiles of the bucket's requests in ms (±5%); null where it had none. */
  p50Ms: (number | null)[];
  p95Ms: (number | null)[];
  p99Ms: (number | null)[];
}

/** A stretch of time in one state, in Unix seconds; `to` null while it lasts. */
export interface UpDownSpan {
  from: number;
  to: number | null;
  /** up: some upstream could serve; down: none could; off: Gatehouse was not running (nothing known). */
  state: 'up' | 'down' | 'off';
}

export interface Availability {
  spans: UpDownSpan[];
  /** Share of the range's known time (up + down) that was up, 0–1; null when nothing is known. */
  upFraction: number | null;
}

export interface UpstreamHistory {
  /** The upstream as the route lists it (`http://10.33.0.4:8096`). */
  url: string;
  series: HistorySeries;
  availability: Availability;
}

export interface RouteHistory {
  routeId: string;
  range: HistoryRange;
  /** Seconds between two buckets. */
  stepSeconds: number;
  /** The range's start and end, Unix seconds. */
  from: number;
  to: number;
  series: HistorySeries;
  availability: Availability;
  upstreams: UpstreamHistory[];
}

/** The dashboard's sparklines: requests and errors (4xx excluded) per bucket for every route. */
export interface HistorySummary {
  range: HistoryRange;
  stepSeconds: number;
  from: number;
  to: number;
  routes: { routeId: string; requests: (number | null)[]; errors: number[]; upFraction: number | null }[];
}

// ---------------------------------------------------------------------------------------------
// Access-log search

/** "404", "4xx", "5xx", "200-299": one status, a class, or a range. */
export const StatusFilterSchema = z
  .string()
  .trim()
  .regex(/^(?:[1-5]xx|\d{3}|\d{3}-\d{3})$/, 'a status is a code (404), a class (5xx) or a range (500-504)');

export const LogSearchInputSchema = z
  .object({
    routeId: z.string().trim().min(1).max(100).optional(),
    /** An IP address, or the start of one ("203.0.113."). */
    client: z.string().trim().max(64, 'a client is an IP address or the start of one').regex(/^[0-9A-Fa-f:.]*$/, 'a client is an IP address or the start of one, such as 203.0.113.').optional(),
    status: StatusFilterSchema.optional(),
    /** Part of the path, case-sensitive ("/api/"). */
    path: z.string().max(200, 'search for at most 200 characters of a path').optional(),
    /** Part of the host name. */
    host: z.string().trim().max(253).optional(),
    /** ISO times; the range is [from, to). */
    from: z.iso.datetime({ offset: true, error: 'from is an ISO time, such as 2026-12-06T10:00:00Z' }).optional(),
    to: z.iso.datetime({ offset: true, error: 'to is an ISO time, such as 2026-12-06T12:00:00Z' }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
    /** The `next` of a previous answer: continue with older entries. */
    before: z.string().max(200).optional(),
  })
  .strict();
export type LogSearchInput = z.input<typeof LogSearchInputSchema>;

export interface LogSearchResult {
  /** Matching entries, newest first (at most `limit`). */
  entries: AccessLogEntry[];
  /** Pass as `before` for older matches; null when the files hold no more. */
  next: string | null;
  /** Log lines read to answer (current and rotated files). */
  scanned: number;
}

// ---------------------------------------------------------------------------------------------
// Route doctor

export const DOCTOR_STEPS = ['dns', 'port', 'certificate', 'upstream', 'access'] as const;
export type DoctorStep = (typeof DOCTOR_STEPS)[number];

export interface DoctorCheck {
  /** Stable id, e.g. "dns:jellyfin.home.example:system", "certificate:expiry". */
  id: string;
  step: DoctorStep;
  /** What was checked, in a few words ("jellyfin.home.example resolves to this machine"). */
  title: string;
  /** pass; warn (works, but something will bite); fail (this is why it does not work); skipped (not applicable, or an earlier failure makes it moot). */
  state: 'pass' | 'warn' | 'fail' | 'skipped';
  /** What was seen, in plain words. */
  says: string;
  /** What to do about it; null when nothing. */
  fix: string | null;
  durationMs: number;
}

export interface DoctorReport {
  routeId: string;
  /** ISO time the checks started. */
  time: string;
  durationMs: number;
  /** The address whose access was judged. */
  visitor: string;
  checks: DoctorCheck[];
  /** ok: every check passed; warnings: works with warnings; broken: at least one failed. */
  verdict: 'ok' | 'warnings' | 'broken';
  /** One sentence: the first failure's `says`, or that all is well. */
  summary: string;
}

// ---------------------------------------------------------------------------------------------
// Request inspector

export const INSPECTOR_MAX_KEEP = 500;
export const INSPECTOR_MAX_BODY_BYTES = 64 * 1024;

/** A route whose requests the inspector captures (in memory only). Presence in settings means on. */
export const InspectorEntrySchema = z
  .object({
    routeId: z.string().min(1).max(100),
    /** The newest requests kept. Default: 50. */
    keep: z.number().int().min(1, 'keep at least 1 request').max(INSPECTOR_MAX_KEEP, `keep at most ${INSPECTOR_MAX_KEEP} requests`).default(50),
    /** Body bytes kept of each request and each response. Default: 4096. */
    bodyBytes: z.number().int().min(0).max(INSPECTOR_MAX_BODY_BYTES, `keep at most ${INSPECTOR_MAX_BODY_BYTES} body bytes`).default(4096),
  })
  .strict();
export type InspectorEntry = z.output<typeof InspectorEntrySchema>;

export interface CapturedBody {
  /** The kept bytes, base64. */
  base64: string;
  /** Whole size seen (may exceed the kept bytes); null when unknown (the exchange was cut). */
  totalBytes: number | null;
  truncated: boolean;
  /** From Content-Type, when it was text (UTF-8 shown as text in the UI). */
  contentType: string | null;
}

export interface CapturedRequest {
  id: string;
  /** ISO time the request arrived. */
  time: string;
  client: string;
  method: string;
  /** Path and query as the client sent them, the values of secret query parameters (X-Plex-Token, api_key, access_token…) shown as "masked". */
  path: string;
  host: string;
  /** Request headers as [name, value]; secrets (Authorization, Cookie, Set-Cookie, API keys) show as "••• masked (N characters)". */
  requestHeaders: [string, string][];
  requestBody: CapturedBody;
  /** null while unanswered or when no answer came. */
  status: number | null;
  responseHeaders: [string, string][];
  responseBody: CapturedBody;
  upstream: string | null;
  /** Milliseconds from arrival: when the upstream connection was ready, when its answer's head came, when the exchange ended. */
  phases: { connectedMs: number | null; headersMs: number | null; totalMs: number | null };
  /** The failure's code when Gatehouse answered itself. */
  error: string | null;
  /** True when this capture is a replay's (made by replayRequest). */
  replay: boolean;
  /** How it reached Gatehouse: over plain HTTP or HTTPS, and which HTTP version. */
  scheme: 'http' | 'https';
  httpVersion: '1.1' | '2';
}

export interface InspectorView {
  routeId: string;
  enabled: boolean;
  keep: number;
  bodyBytes: number;
  /** Newest first. */
  captures: CapturedRequest[];
  /** Memory the captures hold now. */
  bytesHeld: number;
}

export interface ReplayResult {
  /** The capture the replay made (the request as sent again, and the answer). */
  capture: CapturedRequest;
}

// ---------------------------------------------------------------------------------------------
// Backups

export const BackupScheduleSchema = z
  .object({
    /** Write a backup to `folder` every `everyHours`. Default: false. */
    enabled: z.boolean(),
    /** An absolute folder on this machine. Default: null (chosen by the user). */
    folder: z.string().trim().max(1024).nullable(),
    everyHours: z.number().int().min(1, 'back up at most every hour').max(24 * 30, 'back up at least every 30 days'),
    /** Backups kept in the folder; older ones Gatehouse made are removed. Default: 7. */
    keep: z.number().int().min(1, 'keep at least 1 backup').max(365, 'keep at most 365 backups'),
  })
  .strict();
export type BackupSchedule = z.output<typeof BackupScheduleSchema>;

export const BACKUP_PASSPHRASE_MIN = 10;
export const BackupPassphraseSchema = z
  .string({ error: 'enter the backup passphrase' })
  .min(BACKUP_PASSPHRASE_MIN, `a backup passphrase has at least ${BACKUP_PASSPHRASE_MIN} characters`)
  .max(1024, 'a backup passphrase has at most 1024 characters');

/** The `insight` settings section. */
export const InsightSettingsSchema = z
  .object({
    inspector: z.array(InspectorEntrySchema).max(200),
    backups: BackupScheduleSchema,
  })
  .strict();
export type InsightSettings = z.output<typeof InsightSettingsSchema>;

export function defaultInsightSettings(): InsightSettings {
  return { inspector: [], backups: { enabled: false, folder: null, everyHours: 24, keep: 7 } };
}

export interface BackupFileInfo {
  name: string;
  bytes: number;
  /** ISO time it was written. */
  time: string;
}

export interface BackupsOverview {
  schedule: BackupSchedule;
  /** A passphrase for scheduled backups is stored (encrypted); it is never returned. */
  passphraseSet: boolean;
  lastRun: { time: string; file: string | null; error: string | null } | null;
  /** ISO time of the next scheduled backup; null when off. */
  nextRun: string | null;
  /** Backups Gatehouse wrote in the folder, newest first. */
  files: BackupFileInfo[];
}

/** A backup file, as createBackup hands it to the user to save. */
export interface BackupDownload {
  fileName: string;
  contentBase64: string;
  bytes: number;
  /** What it holds, for the person to see ("4 routes, the local CA and its key, 2 imported certificates, 1 ACME account"). */
  holds: string[];
}

/** Where the backup to read comes from: a file the user picked, or one in the scheduled folder. */
export const backupSourceFields = {
    contentBase64: z.string().max(64 * 1024 * 1024, 'a backup file is at most 48 MiB').optional(),
    /** A file name listed by getBackups (in the schedule's folder). */
    fileName: z.string().max(255).regex(/^[^/\\]+$/, 'a file name without a folder').optional(),
    passphrase: BackupPassphraseSchema,
};
const oneSource = (source: { contentBase64?: string | undefined; fileName?: string | undefined }) => (source.contentBase64 === undefined) !== (source.fileName === undefined);
const ONE_SOURCE = 'choose a backup file (or one of the scheduled backups)';
export const BackupSourceSchema = z.object(backupSourceFields).strict().refine(oneSource, ONE_SOURCE);
/** Restoring replaces what is there (kept aside): the caller says it saw the preview. */
export const RestoreInputSchema = z
  .object({ ...backupSourceFields, confirm: z.literal(true, { error: 'restoring replaces settings, routes and certificates; send confirm: true after the person saw the preview' }) })
  .strict()
  .refine(oneSource, ONE_SOURCE);

export interface RestoreChange {
  /** routes, streams, settings, access, certificates, local-ca, acme, dns, users, secrets */
  area: string;
  /** What it is ("route jellyfin.home.example", "the local CA"). */
  what: string;
  change: 'add' | 'replace' | 'remove' | 'same';
  detail: string | null;
}

export interface RestorePreview {
  /** ISO time the backup was made, and by which Gatehouse version. */
  createdAt: string;
  gatehouseVersion: string;
  changes: RestoreChange[];
  /** One sentence for the confirmation. */
  summary: string;
}

export interface RestoreResult {
  applied: RestoreChange[];
  /** The data-directory folder where everything replaced was kept. */
  keptIn: string;
}

// ---------------------------------------------------------------------------------------------
// Move in from Nginx Proxy Manager

export const NpmFolderSchema = z
  .string({ error: "enter the folder holding NPM's database.sqlite (its /data folder, copied to this machine)" })
  .trim()
  .min(1, "enter the folder holding NPM's database.sqlite (its /data folder, copied to this machine)")
  .max(1024);

export interface NpmImportItem {
  /** "proxy-host:3", "redirection-host:1", "access-list:2", "certificate:5", "stream:4". */
  key: string;
  kind: 'proxy-host' | 'redirection-host' | 'access-list' | 'certificate' | 'stream';
  npmId: number;
  /** NPM's names for it ("jellyfin.example.com, www.jellyfin.example.com", "Family"). */
  label: string;
  /** yes: maps fully; partly: maps, with notes on what is left out; no: cannot be imported (notes say why). */
  maps: 'yes' | 'partly' | 'no';
  /** What it becomes in Gatehouse, in words ("route → http://10.33.0.4:8096, HTTPS with the imported certificate"). */
  becomes: string | null;
  notes: string[];
  /** Keys this item needs imported with it (a proxy host's access list and certificate). */
  needs: string[];
}

export interface NpmImportPreview {
  folder: string;
  items: NpmImportItem[];
}

export interface NpmImportResult {
  imported: { key: string; kind: NpmImportItem['kind']; id: string }[];
  skipped: { key: string; reason: string }[];
}
