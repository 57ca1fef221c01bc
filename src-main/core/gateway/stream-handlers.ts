// The streams' API: add, change and remove TCP/UDP/FTP streams (stored in the settings file, edited
// by id like routes) and report each with its state and counters. Every change is checked, saved,
// then applied to the running stream engine, which rebinds only the stream that changed.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { Settings } from '../../../shared/model.js';
import type { Stream, StreamStatus, StreamView } from '../../../shared/streams.js';
import { newRouteId } from './route-edits.js';

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
        const stream: Stream = { id: newRouteId(streams), ...input };
        await save([...streams, stream]);
        return view(find(stream.id));
      }),

    updateStream: ({ id, ...fields }) =>
      change(async () => {
        find(id);
        const stream: Stream = { id, ...fields };
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
