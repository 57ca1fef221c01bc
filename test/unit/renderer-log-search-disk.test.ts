// The Logs page's "Search older entries" (issue 17): the form becomes searchLog's input (times from
// this device's zone to UTC), a range that ends before it starts and a bad status are shown on their
// fields without a call, "Load older" continues the search that ran (not the edited form), and the
// server's refusal lands on the field it names.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { FakeGatehouse, sampleLogEntry } from '../../src-renderer/dev/fake-gatehouse.js';

const { LogSearch, SEARCH_PAGE, localToIso } = await import('../../src-renderer/pages/logs/log-search.svelte.js');

const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 10, minute)).toISOString();

function fakeWithOlder(): FakeGatehouse {
  const fake = new FakeGatehouse({ log: [sampleLogEntry({ time: at(500), path: '/live', status: 502, routeId: 'pve' })] });
  fake.logSearch.older = Array.from({ length: 250 }, (_, i) =>
    sampleLogEntry({ time: at(i), path: `/old/${i}`, status: i % 2 === 0 ? 502 : 200, routeId: i % 2 === 0 ? 'pve' : 'jf', client: i % 4 === 0 ? '192.168.1.44' : '192.168.1.30' }),
  );
  return fake;
}

const searches = (fake: FakeGatehouse) => fake.calls.filter((call) => call.member === 'searchLog').map((call) => call.input as Record<string, unknown>);

describe('searching older entries', () => {
  it('sends only the filled fields, newest first, and "Load older" continues the search that ran', async () => {
    const fake = fakeWithOlder();
    const search = new LogSearch(createApiClient(fake));
    search.routeId = 'pve';
    search.status = ' 5xx ';
    await search.search();
    assert.deepEqual(searches(fake), [{ limit: SEARCH_PAGE, routeId: 'pve', status: '5xx' }]);
    assert.equal(search.searched, true);
    assert.equal(search.rows.length, SEARCH_PAGE);
    assert.equal(search.rows[0]!.path, '/live', 'the live log is on disk too, newest first');
    assert.equal(search.rows[1]!.path, '/old/248');
    assert.ok(search.next);

    search.status = '404'; // edited after the search: "Load older" keeps the search that ran
    await search.loadOlder();
    const [, second] = searches(fake);
    assert.deepEqual({ ...second, before: undefined }, { limit: SEARCH_PAGE, routeId: 'pve', status: '5xx', before: undefined });
    assert.equal(typeof second!.before, 'string');
    assert.equal(search.rows.length, 126, '125 old 502s of Proxmox and the live one');
    assert.equal(search.rows.at(-1)!.path, '/old/0');
    assert.equal(search.next, null);
    assert.equal(new Set(search.rows.map((row) => row.key)).size, search.rows.length, 'each row has its own key');

    search.clear();
    assert.deepEqual([search.rows.length, search.searched, search.status], [0, false, '']);
  });

  it('times go out as UTC ISO times; the client filter matches the start of an address', async () => {
    const fake = fakeWithOlder();
    const search = new LogSearch(createApiClient(fake));
    search.from = '2026-11-20T10:10';
    search.to = '2026-11-20T10:20';
    search.client = '192.168.1.4';
    await search.search();
    const [sent] = searches(fake);
    assert.equal(sent!.from, localToIso('2026-11-20T10:10'));
    assert.equal(sent!.from, new Date(2026, 10, 20, 10, 10).toISOString());
    assert.ok(search.rows.every((row) => row.client === '192.168.1.44'));
  });

  it('a range ending before it starts, or a status that is not one, is shown on its field and nothing is asked', async () => {
    const fake = fakeWithOlder();
    const search = new LogSearch(createApiClient(fake));
    search.from = '2026-11-20T12:00';
    search.to = '2026-11-20T09:00';
    search.status = 'teapot';
    await search.search();
    assert.deepEqual(searches(fake), []);
    assert.equal(search.fieldErrors.message('from'), 'from must be before to');
    assert.match(search.fieldErrors.message('status') ?? '', /a status is a code/);
    assert.equal(search.searched, false);
  });

  it("the server's refusal lands on the field it names", async () => {
    const fake = fakeWithOlder();
    fake.failNext('searchLog', new ApiError('invalid_input', 'status: the range 504-500 starts after it ends', { issues: [{ path: 'status', message: 'the range 504-500 starts after it ends' }] }));
    const search = new LogSearch(createApiClient(fake));
    search.status = '504-500';
    await search.search();
    assert.equal(search.fieldErrors.message('status'), 'the range 504-500 starts after it ends');
    assert.equal(search.error, null, 'no page alert when the field says it');
    search.fieldErrors.edited('status');
    search.status = '500-504';
    await search.search();
    assert.ok(search.rows.length > 0);
    assert.equal(search.fieldErrors.message('status'), null);
  });
});
