// The streams' API: add, change and remove TCP/UDP/FTP streams (stored in the settings file, edited
// by id like routes) and report each with its state and counters. Every change is checked, saved,
// then applied to the running stream engine, which rebinds only the stream that changed.
//
// A stream whose port cannot be bound (another program has it, a port below 1024 without the
// permission) is still saved: the answer is the stream after binding, in state "failed" with the
// problem and its fix, like a route whose certificate could not be issued. Fixing the cause and
// saving again (or restarting the proxy) binds it. What the settings could never run (two listeners
// on one port, a list or route that does not exist) is refused, naming the field of this input.
import { ApiError, type ApiHandlers, type FieldIssue } from '../../../shared/api.js';
import type { Settings } from '../../../shared/model.js';
import { MAX_STREAMS, portClash, streamClaims, type PortClaim, type Stream, type StreamStatus, type StreamView } from '../../../shared/streams.js';
import { newRouteId, routeLabel } from './route-edits.js';

type StreamMembers = 'listStreams' | 'getStream' | 'addStream' | 'updateStream' | 'removeStream';

export interface StreamHandlerDeps {
  current: () => Settings;
  /** Saves an edit of the settings (invalid_input naming the field when the schema refuses it). */
  persist: (edit: (current: Settings) => Settings) => Promise<Settings>;
  /** Runs a change after the ones before it. */
  change: <T>(task: () => Promise<T>) => Promise<T>;
  /** Each stream's status, in the order given. */
  status: (streams: readonly Stream[]) => StreamStatus[];
  /** The saved streams changed: apply them to the running engine (resolves once bound or failed), announce. */
  applied: () => Promise<void>;
  /**
   * Ports this run's proxy holds besides the saved ones (`serve --http-port 8080`), so a stream is
   * not put on a port the proxy uses now. Default: none.
   */
  ownPorts?: () => PortClaim[];
}

function refuse(path: string, message: string): ApiError {
  const issues: FieldIssue[] = [{ path, message }];
  return new ApiError('invalid_input', `${path}: ${message}`, { issues });
}

/**
 * Refuses what the settings schema would refuse about `stream` among the others, but naming the
 * field of this stream's input ("listenPort", "ftp.passivePortFrom", "access.lists.0") rather than
 * its place in the settings file.
 */
export function assertStreamFits(stream: Stream, settings: Settings, ownPorts: readonly PortClaim[] = []): void {
  const lists = new Set(settings.access.lists.map((list) => list.id));
  for (const [i, id] of stream.access.lists.entries()) {
    if (!lists.has(id)) throw refuse(`access.lists.${i}`, `there is no access list "${id}"; create it on the Access page first`);
  }
  const routeId = stream.ftp?.certificateRouteId;
  if (routeId) {
    const route = settings.routes.find((candidate) => candidate.id === routeId);
    if (!route) throw refuse('ftp.certificateRouteId', `there is no route "${routeId}"; choose a route with HTTPS whose name FTP clients use`);
    if (route.tls.mode === 'none' || route.tls.mode === 'passthrough') {
      throw refuse(
        'ftp.certificateRouteId',
        `the route "${routeLabel(route)}" has no certificate of Gatehouse's (${route.tls.mode === 'none' ? 'no HTTPS' : 'TLS passed through'}); give it HTTPS (local CA, custom or Let's Encrypt) or choose another route`,
      );
    }
  }
  const fixed: PortClaim[] = [
    { transport: 'tcp', from: settings.proxy.httpPort, to: settings.proxy.httpPort, owner: "the proxy's HTTP port" },
    { transport: 'tcp', from: settings.proxy.httpsPort, to: settings.proxy.httpsPort, owner: "the proxy's HTTPS port" },
    { transport: 'tcp', from: settings.admin.port, to: settings.admin.port, owner: 'the admin port' },
    ...ownPorts,
    ...settings.streams.filter((other) => other.id !== stream.id).flatMap(streamClaims),
  ];
  for (const claim of streamClaims(stream)) {
    const clash = portClash([...fixed, claim], fixed.length);
    if (!clash) continue;
    const path = claim.owner.startsWith('the FTP passive range') ? 'ftp.passivePortFrom' : 'listenPort';
    const other = clash.a === claim ? clash.b : clash.a;
    const port = Math.max(claim.from, other.from);
    throw refuse(path, `${claim.transport.toUpperCase()} port ${port} is already used by ${other.owner}; choose another port`);
  }
}

export function streamHandlers(deps: StreamHandlerDeps): Pick<ApiHandlers, StreamMembers> {
  const { current, persist, change } = deps;
  const find = (id: string): Stream => {
    const stream = current().streams.find((candidate) => candidate.id === id);
    if (!stream) throw new ApiError('not_found', `There is no stream "${id}"; it may have been removed.`);
    return stream;
  };
  const view = (stream: Stream): StreamView => ({ stream: structuredClone(stream), status: deps.status([stream])[0] as StreamStatus });
  const save = async (streams: Stream[]) => {
    await persist((settings) => ({ ...settings, streams }));
    await deps.applied();
  };

  return {
    listStreams: async () => {
      const streams = current().streams;
      const statuses = deps.status(streams);
      return streams.map((stream, i) => ({ stream: structuredClone(stream), status: statuses[i] as StreamStatus }));
    },

    getStream: async ({ id }) => view(find(id)),

    addStream: (input) =>
      change(async () => {
        const streams = current().streams;
        if (streams.length >= MAX_STREAMS) throw new ApiError('conflict', `Gatehouse keeps at most ${MAX_STREAMS} streams; remove one you no longer use first (a range of ports is one stream).`);
        const stream: Stream = { id: newRouteId(streams), ...input };
        assertStreamFits(stream, current(), deps.ownPorts?.());
        await save([...streams, stream]);
        return view(find(stream.id));
      }),

    updateStream: ({ id, ...fields }) =>
      change(async () => {
        find(id);
        const stream: Stream = { id, ...fields };
        assertStreamFits(stream, current(), deps.ownPorts?.());
        await save(current().streams.map((existing) => (existing.id === id ? stream : existing)));
        return view(find(id));
      }),

    removeStream: ({ id }) =>
      change(async () => {
        const removed = find(id);
        await save(current().streams.filter((existing) => existing.id !== id));
        return { removed: structuredClone(removed) };
      }),
  };
}

/** A stream's status while the engine is not running. */
export function stoppedStatus(stream: Stream): StreamStatus {
  return {
    streamId: stream.id,
    state: stream.enabled ? 'stopped' : 'disabled',
    problem: null,
    open: 0,
    total: 0,
    refused: 0,
    failed: 0,
    bytesIn: 0,
    bytesOut: 0,
    upstreams: stream.upstreams.map((address, i) => ({ address, state: 'unknown', since: null, lastCheck: null, active: i === 0 })),
    health: 'unknown',
  };
}
