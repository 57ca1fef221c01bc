// "Probe a host": tries a documented list of home-lab ports on one address (TCP connect, short
// timeout, a bounded number at a time), then identifies what answers on the open ones over HTTP(S).
// For services that do not announce themselves over mDNS (Jellyfin, for one).
//
// Time bound: a host that drops packets makes every connect wait its full timeout, so the worst
// case is ceil(ports / CONNECT_CONCURRENCY) × CONNECT_TIMEOUT_MS: 2 waves × 600 ms = 1.2 s for the
// usual list, 4 waves = 2.4 s for 64 ports (the most the API takes). Open ports are identified while
// the remaining ports are still being tried, and every identification ends by the probe's deadline.
import { setMaxListeners } from 'node:events';
import { Socket } from 'node:net';
import type { HostProbe, ProbedPort } from '../../../shared/status.js';
import { identifyService } from './identify.js';

/**
 * The ports "Probe a host" tries when the caller gives none, each with why it is here. Ordered by
 * port; at most ~40 so a silent host is done in a few waves of connects.
 */
export const COMMON_PORTS: readonly number[] = [
  80, // plain HTTP: Pi-hole, AdGuard Home, Nextcloud, Vaultwarden, most web UIs in a container
  443, // HTTPS: TrueNAS, Nextcloud, anything behind its own TLS
  1880, // Node-RED
  2283, // Immich
  3000, // Grafana, Gitea, Forgejo, AdGuard Home's first-run setup
  3001, // Uptime Kuma
  4533, // Navidrome
  5000, // Synology DSM (plain HTTP)
  5001, // Synology DSM (HTTPS, self-signed)
  5055, // Overseerr / Jellyseerr
  6767, // Bazarr
  7878, // Radarr
  8000, // Paperless-ngx
  8006, // Proxmox VE (HTTPS, self-signed)
  8065, // Mattermost
  8080, // the usual alternative HTTP port (qBittorrent, SABnzbd, code-server and many containers)
  8081, // a second alternative HTTP port
  8083, // Calibre-Web
  8096, // Jellyfin, Emby
  8123, // Home Assistant
  8200, // Duplicati
  8384, // Syncthing
  8443, // the usual alternative HTTPS port (UniFi Network, self-signed)
  8888, // another common alternative HTTP port
  8920, // Jellyfin, Emby (HTTPS)
  8989, // Sonarr
  9000, // Portainer (plain HTTP)
  9090, // Cockpit, Prometheus
  9443, // Portainer (HTTPS, self-signed)
  9696, // Prowlarr
  13378, // Audiobookshelf
  32400, // Plex Media Server
];

export interface ProbeHostOptions {
  ports?: readonly number[];
  signal?: AbortSignal;
}

/** Time to accept a TCP connection, ms: a LAN device answers in a few; a dropped SYN never does. */
export const CONNECT_TIMEOUT_MS = 600;
/**
 * TCP connects at a time: enough that a silent host is done within the 3 s target even for 64 ports,
 * few enough (one SYN each, no retries) not to hammer a home router or NAS.
 */
export const CONNECT_CONCURRENCY = 16;
/** HTTP identifications at a time (each makes a few requests, one after another). */
export const IDENTIFY_CONCURRENCY = 4;
/** The whole probe ends by then, ms: identifications still running are cut short. */
export const PROBE_DEADLINE_MS = 2900;

/** Whether address:port accepts a TCP connection within timeoutMs. Rejects only on abort. */
function tcpOpen(address: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const done = (open: boolean | Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (open instanceof Error) reject(open);
      else resolve(open);
    };
    const onAbort = (): void => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(() => done(false), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect({ host: address, port });
  });
}

/** Runs `work` over `items` with at most `limit` at a time; rejects on the first rejection. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A tiny semaphore: identifications start as ports open, IDENTIFY_CONCURRENCY at a time. */
function limiter(limit: number): <R>(task: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Tries `ports` (default COMMON_PORTS) on `address` and identifies what answers; see the file comment. */
export async function probeHost(address: string, options: ProbeHostOptions = {}): Promise<HostProbe> {
  const started = Date.now();
  const ports = [...new Set(options.ports ?? COMMON_PORTS)];
  const controller = new AbortController();
  // Every connect and request in flight listens for the abort: up to 16 + 4 at once.
  setMaxListeners(64, controller.signal);
  const onAbort = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) throw options.signal.reason;
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const open: ProbedPort[] = [];
  const identifications: Promise<void>[] = [];
  const identifyLimited = limiter(IDENTIFY_CONCURRENCY);
  try {
    await eachLimited(ports, CONNECT_CONCURRENCY, async (port) => {
      if (!(await tcpOpen(address, port, CONNECT_TIMEOUT_MS, controller.signal))) return;
      const probed: ProbedPort = { port, scheme: null, identification: null };
      open.push(probed);
      identifications.push(
        identifyLimited(async () => {
          const timeoutMs = started + PROBE_DEADLINE_MS - Date.now();
          if (timeoutMs <= 0) return;
          const identification = await identifyService({ address, port }, { timeoutMs, signal: controller.signal });
          probed.identification = identification;
          probed.scheme = identification?.scheme ?? null;
        }),
      );
    });
    await Promise.all(identifications);
  } catch (error) {
    controller.abort(error);
    await Promise.allSettled(identifications);
    throw options.signal?.aborted ? options.signal.reason : error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  open.sort((a, b) => a.port - b.port);
  return { address, portsTried: ports.length, open, tookMs: Date.now() - started };
}
