// Reading a settings file's text, without a disk: versions, migrations, defaults and the wording of
// every reason a file cannot be used.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTINGS_VERSION, defaultSettings } from '../../shared/model.js';
import { decodeSettings, describeJsonError, fillDefaults } from '../../src-main/core/settings/decode.js';
import { migrateToCurrent, migrations, type Migration } from '../../src-main/core/settings/migrations.js';

function reasonFor(text: string): string {
  const decoded = decodeSettings(text);
  assert.equal(decoded.kind, 'unreadable');
  return decoded.kind === 'unreadable' ? decoded.reason : '';
}

test('the migration list runs from version 0 to SETTINGS_VERSION one step at a time', () => {
  assert.equal(migrations[0]?.from, 0);
  migrations.forEach((step, i) => {
    assert.equal(step.to, step.from + 1, `step ${i} goes to the next version`);
    if (i > 0) assert.equal(step.from, migrations[i - 1]?.to, `step ${i} starts where the one before ends`);
  });
  assert.equal(migrations.at(-1)?.to, SETTINGS_VERSION);
});

test('migrateToCurrent chains every step in order and stamps each version', () => {
  const seen: string[] = [];
  const step = (from: number, change: (raw: Record<string, unknown>) => Record<string, unknown>): Migration => ({
    from,
    to: from + 1,
    migrate(raw) {
      seen.push(`${from}→${from + 1} saw version ${String(raw.version)}`);
      return change(raw);
    },
  });
  const fakeChain = [
    step(0, (raw) => ({ ...raw, names: [raw.name] })),
    step(1, ({ name: _dropped, ...raw }) => raw),
    step(2, (raw) => ({ ...raw, port: 8080 })),
  ];
  const input = { name: 'a.home.arpa' };
  assert.deepEqual(migrateToCurrent(input, 0, fakeChain, 3), { names: ['a.home.arpa'], port: 8080, version: 3 });
  assert.deepEqual(seen, ['0→1 saw version undefined', '1→2 saw version 1', '2→3 saw version 2']);
  assert.deepEqual(input, { name: 'a.home.arpa' }, 'the input is not mutated');
  assert.deepEqual(migrateToCurrent({ names: [], version: 2 }, 2, fakeChain, 3), { names: [], version: 3, port: 8080 });
  assert.throws(() => migrateToCurrent({}, 0, [fakeChain[0]!], 3), /no migration from settings version 1/);
});

test('version 0 routes get http:// on a bare upstream; anything odd is passed on untouched', () => {
  const step = migrations[0]!;
  const raw = { routes: [{ upstream: '10.0.0.1:80' }, { upstream: 'https://nas:5001' }, { upstream: 5 }, 'junk', null] };
  assert.deepEqual(step.migrate(raw), { routes: [{ upstream: 'http://10.0.0.1:80' }, { upstream: 'https://nas:5001' }, { upstream: 5 }, 'junk', null] });
  assert.deepEqual(step.migrate({ routes: 'none' }), { routes: 'none' });
});

test('fillDefaults fills missing fields at every depth and keeps present ones, even wrong ones', () => {
  const filled = fillDefaults({ proxy: { httpPort: 'eighty', timeouts: { keepAliveMs: 1 } }, log: 7, routes: [{}] }) as ReturnType<typeof defaultSettings>;
  const defaults = defaultSettings();
  assert.equal(filled.proxy.httpPort, 'eighty');
  assert.equal(filled.proxy.httpsPort, 443);
  assert.deepEqual(filled.proxy.timeouts, { ...defaults.proxy.timeouts, keepAliveMs: 1 });
  assert.deepEqual(filled.admin, defaults.admin);
  assert.equal(filled.log, 7, 'a section of the wrong type is left for the schema to report');
  assert.deepEqual(filled.routes, [{}], 'lists are not merged');
});

test('an absent version means the pre-release format; an explicit current version needs no migration', () => {
  const old = decodeSettings('{}');
  // A file from before version 2 belongs to someone who has used the app: no first-run guide.
  const upgraded = defaultSettings();
  upgraded.app.onboarded = true;
  assert.deepEqual(old, { kind: 'usable', settings: upgraded, migratedFrom: 0 });
  const current = decodeSettings(JSON.stringify({ version: SETTINGS_VERSION }));
  assert.deepEqual(current, { kind: 'usable', settings: defaultSettings(), migratedFrom: null });
});

test('a byte-order mark from a Windows editor is accepted', () => {
  assert.equal(decodeSettings(`\uFEFF${JSON.stringify(defaultSettings())}`).kind, 'usable');
});

test('each kind of unreadable file gets a reason a person can act on', () => {
  assert.equal(reasonFor(''), 'the file is empty');
  assert.equal(reasonFor(' \n'), 'the file is empty');
  assert.equal(reasonFor('[]'), 'it holds a list where a JSON object ({ … }) was expected');
  assert.equal(reasonFor('null'), 'it holds null where a JSON object ({ … }) was expected');
  assert.equal(reasonFor('{"version": "1"}'), `version: expected a whole number such as ${SETTINGS_VERSION}, found "1"`);
  assert.equal(reasonFor('{"version": 1.5}'), `version: expected a whole number such as ${SETTINGS_VERSION}, found 1.5`);
  assert.equal(reasonFor('{"version": 1, "surprise": true}'), 'top level: Unrecognized key: "surprise"');
  assert.match(reasonFor('{"version": 1,\n "admin": {"port": -1}}'), /^admin\.port: a port is a whole number/);
});

test('JSON errors are placed by line and column, whatever wording this Node version uses', () => {
  const text = '{\n  "a": 1\n  "b": 2\n}';
  assert.equal(
    describeJsonError(`Expected ',' or '}' after property value in JSON at position 13 (line 3 column 3)`, text),
    `Expected ',' or '}' after property value at line 3, column 3 (position 13)`,
  );
  assert.equal(describeJsonError('Unexpected token b in JSON at position 13', text), 'Unexpected token b at line 3, column 3 (position 13)');
  assert.equal(
    describeJsonError('Unexpected end of JSON input', '{\n "a": '),
    'the text ends at line 2, column 7 before the JSON is complete (the file may have been cut short)',
  );
  assert.equal(describeJsonError('Something new', '{x'), 'Something new');
});
