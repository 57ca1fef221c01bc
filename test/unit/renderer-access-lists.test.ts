// The Access page's list editor against the fake Gatehouse: entries keep a visible order and move
// up and down, pasted lines become entries (or name the bad line and add nothing), a 1,000-entry
// list renders one page of rows, the contract's schema refuses a bad entry before any call, and
// the server's refusals (a taken name, a list in use) land where the person sees them.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

const { AccessListEditor, PAGE_SIZE, parseEntryLines, entryLines } = await import('../../src-renderer/pages/access/list-editor.svelte.js');
const { AccessFeed } = await import('../../src-renderer/access/access-feed.svelte.js');

function setup() {
  const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'r1', title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: 'http://10.33.0.4:8096' })] });
  return { fake, api: createApiClient(fake) };
}

describe('pasted lines', () => {
  it('reads an address per line, an optional allow/deny in front and the rest as the note', () => {
    const { entries, problems } = parseEntryLines('10.33.0.0/24\n\n  deny 203.0.113.5 old VPS \nALLOW 2001:db8::/32 # office\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(entries, [
      { action: 'allow', range: '10.33.0.0/24', note: '' },
      { action: 'deny', range: '203.0.113.5', note: 'old VPS' },
      { action: 'allow', range: '2001:db8::/32', note: 'office' },
    ]);
    assert.equal(parseEntryLines(entryLines(entries)).entries.length, 3, 'the text form reads back');
  });

  it('names every bad line with its number and the schema’s words', () => {
    const { entries, problems } = parseEntryLines('10.0.0.1\n10.0.0.300\ndeny\nwho knows');
    assert.equal(entries.length, 1);
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /^line 2 \(10\.0\.0\.300\): enter an IP address or a CIDR range/);
    assert.match(problems[1]!, /^line 3: /);
    assert.match(problems[2]!, /^line 4 \(who\): /);
  });
});

describe('AccessListEditor', () => {
  it('creates a list from pasted lines, in the pasted order, and the feed sees it at once', async () => {
    const { fake, api } = setup();
    const feed = new AccessFeed(api);
    const stop = feed.connect();
    await feed.reload();
    const editor = new AccessListEditor(api);
    editor.name = 'Family';
    editor.pasteText = '198.51.100.23 Mum\ndeny 203.0.113.0/24';
    assert.equal(editor.paste(false), true);
    const list = await editor.save();
    assert.ok(list);
    assert.deepEqual(list.entries, [
      { action: 'allow', range: '198.51.100.23', note: 'Mum' },
      { action: 'deny', range: '203.0.113.0/24', note: '' },
    ]);
    assert.deepEqual(fake.access.settings.lists.map((l) => l.name), ['Family']);
    assert.deepEqual(feed.overview?.lists.map((l) => l.name), ['Family'], 'the access event carried the new list');
    assert.equal(feed.you?.address, '192.168.1.30', 'the event (no caller address) does not erase "your address"');
    stop();
  });

  it('adds nothing from a paste with a bad line, and says which', () => {
    const editor = new AccessListEditor(setup().api);
    editor.pasteText = '10.0.0.1\nnot-an-address';
    assert.equal(editor.paste(false), false);
    assert.equal(editor.entries.length, 0);
    assert.match(editor.pasteProblems[0]!, /^line 2 \(not-an-address\)/);
  });

  it('moves entries up and down; the order sent is the order shown', async () => {
    const { fake, api } = setup();
    const editor = new AccessListEditor(api);
    editor.name = 'Order';
    editor.pasteText = '10.0.0.1\n10.0.0.2\n10.0.0.3';
    editor.paste(false);
    assert.equal(editor.move(2, -1), 1);
    assert.equal(editor.move(0, -1), 0, 'the first stays first');
    assert.equal(editor.move(1, 1), 2);
    assert.deepEqual(editor.entries.map((e) => e.range), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    editor.move(0, 1);
    await editor.save();
    assert.deepEqual(fake.access.settings.lists[0]!.entries.map((e) => e.range), ['10.0.0.2', '10.0.0.1', '10.0.0.3']);
  });

  it('shows a 1,000-entry list a page at a time, and moving across a page edge follows the entry', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `10.${Math.floor(i / 256)}.${i % 256}.1`).join('\n');
    const editor = new AccessListEditor(setup().api);
    editor.pasteText = lines;
    assert.equal(editor.paste(true), true);
    assert.equal(editor.entries.length, 1000);
    assert.equal(editor.shown.length, PAGE_SIZE, 'one page of rows, not 1,000');
    assert.equal(editor.pages, Math.ceil(1000 / PAGE_SIZE));
    editor.page = 2;
    assert.equal(editor.shown[0]!.index, 2 * PAGE_SIZE);
    const moved = editor.move(3 * PAGE_SIZE - 1, 1);
    assert.equal(moved, 3 * PAGE_SIZE);
    assert.equal(editor.page, 3, 'the page follows the moved entry');
  });

  it('refuses a bad entry with the schema’s words on its row, calls nothing, and opens its page', async () => {
    const { fake, api } = setup();
    const editor = new AccessListEditor(api);
    editor.name = 'Big';
    editor.pasteText = Array.from({ length: 120 }, (_, i) => `10.0.${i}.0/24`).join('\n');
    editor.paste(false);
    editor.entries[75]!.range = '10.0.0.0/33';
    assert.equal(editor.entryMessage(75), null, 'nothing before a save attempt');
    assert.equal(await editor.save(), null);
    assert.match(editor.entryMessage(75) ?? '', /enter an IP address or a CIDR range/);
    assert.equal(editor.page, 1, 'the page with the bad entry is shown');
    assert.equal(fake.callsOf('addAccessList').length, 0);
    editor.entries[75]!.range = '10.0.75.0/24';
    assert.ok(await editor.save());
  });

  it('puts a taken name on the name field (409 from the server)', async () => {
    const { api } = setup();
    await api.addAccessList({ name: 'Family', entries: [] });
    const editor = new AccessListEditor(api);
    editor.name = 'family';
    assert.equal(await editor.save(), null);
    assert.equal(editor.message('name'), 'this name is taken');
    assert.equal(editor.error?.code, 'conflict');
    editor.edited('name');
    assert.equal(editor.message('name'), null);
  });

  it('renames and edits an existing list in place (same id)', async () => {
    const { fake, api } = setup();
    const list = await api.addAccessList({ name: 'Family', entries: [{ action: 'allow', range: '10.0.0.1' }] });
    const editor = new AccessListEditor(api, list);
    editor.name = 'Home';
    editor.removeEntry(0);
    editor.addEntry();
    editor.entries[0]!.range = '192.168.1.0/24';
    editor.entries[0]!.action = 'deny';
    const saved = await editor.save();
    assert.equal(saved?.id, list.id);
    assert.deepEqual(fake.access.settings.lists, [{ id: list.id, name: 'Home', entries: [{ action: 'deny', range: '192.168.1.0/24', note: '' }] }]);
  });

  it('a list in use cannot be removed; the refusal names the route', async () => {
    const { fake, api } = setup();
    const list = await api.addAccessList({ name: 'Family', entries: [] });
    await api.updateRoute({ ...fake.routes[0]!, access: { ...defaultRouteAccess(), lists: [list.id] } });
    await assert.rejects(api.removeAccessList({ id: list.id }), (error: Error) => /"Family" is used by "Jellyfin"/.test(error.message));
    await api.updateRoute({ ...fake.routes[0]!, access: defaultRouteAccess() });
    assert.deepEqual(await api.removeAccessList({ id: list.id }), { removed: { id: list.id, name: 'Family', entries: [] } });
  });
});
