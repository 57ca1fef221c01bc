// The `gatehouse` command line: what each flag becomes, and the one line a mistake gets.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { defaultDataDir } from '../../src-main/headless/data-dir.js';
import { parseCommandLine, setPasswordUsage, usage, UsageError } from '../../src-main/headless/options.js';

const fixedDir = () => '/home/me/.config/Gatehouse';

test('serve with every flag', () => {
  const command = parseCommandLine(
    ['serve', '--data-dir', 'data', '--http-port', '8080', '--https-port', '8443', '--admin-port', '0', '--bind', '127.0.0.1', '--admin-bind', '::1'],
    fixedDir,
  );
  assert.deepEqual(command, {
    kind: 'serve',
    options: { dataDir: resolve('data'), httpPort: 8080, httpsPort: 8443, adminPort: 0, bindAddress: '127.0.0.1', adminBindAddress: '::1' },
  });
});

test('serve without flags uses the default data dir and leaves every port to the settings', () => {
  assert.deepEqual(parseCommandLine(['serve'], fixedDir), { kind: 'serve', options: { dataDir: '/home/me/.config/Gatehouse' } });
  assert.deepEqual(parseCommandLine(['serve', '--data-dir=/srv/gh'], fixedDir), { kind: 'serve', options: { dataDir: '/srv/gh' } });
});

test('help and version', () => {
  assert.deepEqual(parseCommandLine(['--help']), { kind: 'help', text: usage() });
  assert.deepEqual(parseCommandLine(['serve', '-h']), { kind: 'help', text: usage() });
  assert.deepEqual(parseCommandLine(['help']), { kind: 'help', text: usage() });
  assert.deepEqual(parseCommandLine(['set-password', '--help']), { kind: 'help', text: setPasswordUsage() });
  assert.deepEqual(parseCommandLine(['help', 'set-password']), { kind: 'help', text: setPasswordUsage() });
  assert.deepEqual(parseCommandLine(['-v']), { kind: 'version' });
});

test('set-password takes the data dir and --disable-totp, and none of serve\'s flags', () => {
  assert.deepEqual(parseCommandLine(['set-password'], fixedDir), { kind: 'set-password', options: { dataDir: '/home/me/.config/Gatehouse', disableTotp: false } });
  assert.deepEqual(parseCommandLine(['set-password', '--data-dir', '/srv/gh', '--disable-totp'], fixedDir), {
    kind: 'set-password',
    options: { dataDir: '/srv/gh', disableTotp: true },
  });
  assert.throws(() => parseCommandLine(['set-password', '--admin-port', '1'], fixedDir), /--admin-port is an option of "gatehouse serve"/);
  assert.throws(() => parseCommandLine(['serve', '--disable-totp'], fixedDir), /--disable-totp is an option of "gatehouse set-password"/);
});

test('mistakes are UsageErrors with one line naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['serve', '--http-port', '-1'], /--http-port needs a value|--http-port must be a port/],
    [['serve', '--http-port', '65536'], /--http-port must be a port number from 0 to 65535, not "65536"/],
    [['serve', '--https-port', '1.5'], /--https-port must be a port number/],
    [['serve', '--admin-bind', '999.1.1.1'], /--admin-bind must be an IP address/],
    [['serve', '--data-dir', ''], /--data-dir needs a directory/],
    [['serve', '--verbose'], /^unknown option --verbose$/],
    [['serve', 'now'], /unexpected argument "now"/],
  ];
  for (const [argv, expected] of cases) {
    assert.throws(
      () => parseCommandLine(argv, fixedDir),
      (error: unknown) => error instanceof UsageError && expected.test(error.message) && !error.message.includes('\n'),
      argv.join(' '),
    );
  }
});

test('the default data dir is where Electron keeps userData for "Gatehouse"', () => {
  assert.equal(defaultDataDir('linux', {}, '/home/me'), '/home/me/.config/Gatehouse');
  assert.equal(defaultDataDir('linux', { XDG_CONFIG_HOME: '/cfg' }, '/home/me'), '/cfg/Gatehouse');
  assert.equal(defaultDataDir('darwin', {}, '/Users/me'), '/Users/me/Library/Application Support/Gatehouse');
  assert.equal(defaultDataDir('win32', { APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'C:\\Users\\me'), 'C:\\Users\\me\\AppData\\Roaming\\Gatehouse');
  assert.equal(defaultDataDir('win32', {}, 'C:\\Users\\me'), 'C:\\Users\\me\\AppData\\Roaming\\Gatehouse');
});
