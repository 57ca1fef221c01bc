// The renderer's API client is a pure function of its transport: each member becomes one call with
// the member's name, errors come out as ApiError, and events are routed by name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ApiError,
  createApiClient,
  endpoints,
  type ApiEvent,
  type ApiMember,
  type ApiTransport,
} from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import type { ProxyStatus } from '../../shared/status.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

/** Records every call; answers with `answer(member, input)`; lets the test emit events. */
function fakeTransport(answer: (member: ApiMember, input: unknown) => Promise<unknown> = async () => 'ok') {
  const calls: { member: ApiMember; input: unknown }[] = [];
  const listeners = new Set<(event: ApiEvent) => void>();
  const subscribedTypes: (readonly string[] | undefined)[] = [];
  const transport: ApiTransport = {
    call(member, input) {
      calls.push({ member, input });
      return answer(member, input);
    },
    subscribe(listener, types) {
      subscribedTypes.push(types);
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const emit = (event: ApiEvent) => listeners.forEach((listener) => listener(event));
  return { transport, calls, listeners, emit, subscribedTypes };
}

const status: ProxyStatus = {
  state: 'running',
  http: { address: '127.0.0.1', port: 8080 },
  https: { address: '127.0.0.1', port: 8443 },
  problem: null,
  startedAt: '2025-01-01T00:00:00.000Z',
  routeCount: 1,
  lanAddresses: ['192.168.1.20'],
  settingsNotice: null,
  overrides: {},
};

const route: Route = sampleRoute({ id: 'r1', names: ['jellyfin.home.arpa'] });

describe('createApiClient', () => {
  it('has a function for every member of the contract', () => {
    const client = createApiClient(fakeTransport().transport) as unknown as Record<string, unknown>;
    for (const member of Object.keys(endpoints)) assert.equal(typeof client[member], 'function', member);
  });

  it('calls the transport with each member name and its input, and resolves with the answer', async () => {
    const fake = fakeTransport(async (member) => `answer to ${member}`);
    const client = createApiClient(fake.transport) as unknown as Record<string, (input?: unknown) => Promise<unknown>>;
    for (const member of Object.keys(endpoints) as ApiMember[]) {
      const input = { marker: member };
      const answer = await client[member]!(input);
      assert.equal(answer, `answer to ${member}`);
      assert.deepEqual(fake.calls.at(-1), { member, input });
    }
    assert.equal(fake.calls.length, Object.keys(endpoints).length);
  });

  it('sends {} when a member is called without input', async () => {
    const fake = fakeTransport(async () => status);
    const client = createApiClient(fake.transport) as unknown as Record<string, () => Promise<unknown>>;
    assert.deepEqual(await client.getStatus!(), status);
    assert.deepEqual(fake.calls, [{ member: 'getStatus', input: {} }]);
  });

  it('passes typed inputs through unchanged', async () => {
    const fake = fakeTransport(async () => route);
    const client = createApiClient(fake.transport);
    await client.updateRoute({ id: 'r1', names: ['jellyfin.home.arpa'], upstream: '10.33.0.4:8096' });
    assert.deepEqual(fake.calls, [
      { member: 'updateRoute', input: { id: 'r1', names: ['jellyfin.home.arpa'], upstream: '10.33.0.4:8096' } },
    ]);
  });

  it('turns an error body into an ApiError with its code, fix and issues', async () => {
    const body = {
      error: {
        code: 'invalid_input',
        message: 'names.0: enter a host name',
        issues: [{ path: 'names.0', message: 'enter a host name' }],
      },
    };
    const client = createApiClient(fakeTransport(() => Promise.reject(body)).transport);
    const error = await client.addRoute({ names: [''], upstream: 'x:1' }).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.status, 400);
    assert.equal(error.message, 'names.0: enter a host name');
    assert.deepEqual(error.details.issues, [{ path: 'names.0', message: 'enter a host name' }]);
  });

  it('keeps an ApiError the transport threw as it is', async () => {
    const thrown = new ApiError('port_unavailable', 'Port 80 is in use.', { fix: 'Stop the other web server.' });
    const client = createApiClient(fakeTransport(() => Promise.reject(thrown)).transport);
    await assert.rejects(client.startProxy({}), (error) => error === thrown);
  });

  it('turns anything unreadable into an internal ApiError', async () => {
    for (const garbage of [new Error('socket hang up'), 'nope', null, { error: { code: 'made_up', message: 'x' } }]) {
      const client = createApiClient(fakeTransport(() => Promise.reject(garbage)).transport);
      await assert.rejects(client.listRoutes({}), (error) => error instanceof ApiError && error.code === 'internal');
    }
  });

  it('routes events by name and stops delivering after unsubscribe', () => {
    const fake = fakeTransport();
    const client = createApiClient(fake.transport);
    const statuses: ProxyStatus[] = [];
    const routeLists: Route[][] = [];
    const stopStatus = client.on('status', (data) => statuses.push(data));
    client.on('routes', (data) => routeLists.push(data));

    fake.emit({ type: 'status', data: status });
    fake.emit({ type: 'routes', data: [route] });
    fake.emit({ type: 'settings', data: {} as never });
    assert.deepEqual(statuses, [status]);
    assert.deepEqual(routeLists, [[route]]);

    stopStatus();
    fake.emit({ type: 'status', data: { ...status, state: 'stopped' } });
    fake.emit({ type: 'routes', data: [] });
    assert.equal(statuses.length, 1, 'no status after unsubscribe');
    assert.deepEqual(routeLists, [[route], []], 'the other listener still receives');
    assert.equal(fake.listeners.size, 1);
  });

  it('tells the transport which event type each listener wants', () => {
    const fake = fakeTransport();
    const client = createApiClient(fake.transport);
    client.on('log', () => {});
    client.on('health', () => {});
    assert.deepEqual(fake.subscribedTypes, [['log'], ['health']]);
  });
});
