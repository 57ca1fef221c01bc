// "Start at login" on Linux: the XDG autostart entry (src-main/electron/autostart-linux.ts), written
// to and removed from a temp directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  applyLinuxAutostart,
  AUTOSTART_FILE_NAME,
  autostartDir,
  desktopEntry,
  execArgument,
  launchCommand,
} from '../../src-main/electron/autostart-linux.js';

const work = mkdtempSync(join(tmpdir(), 'gatehouse-autostart-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The Exec= line of an entry. */
const execLine = (entry: string) => entry.split('\n').find((line) => line.startsWith('Exec='));

describe('autostartDir', () => {
  it('uses $XDG_CONFIG_HOME/autostart when it is an absolute path, else ~/.config/autostart', () => {
    assert.equal(autostartDir({ XDG_CONFIG_HOME: '/srv/me/cfg' }, '/home/me'), '/srv/me/cfg/autostart');
    assert.equal(autostartDir({}, '/home/me'), '/home/me/.config/autostart');
    assert.equal(autostartDir({ XDG_CONFIG_HOME: '' }, '/home/me'), '/home/me/.config/autostart');
    assert.equal(autostartDir({ XDG_CONFIG_HOME: 'relative/cfg' }, '/home/me'), '/home/me/.config/autostart');
  });
});

describe('the Exec line', () => {
  it('leaves plain arguments as they are', () => {
    assert.equal(execArgument('/opt/Gatehouse/gatehouse'), '/opt/Gatehouse/gatehouse');
    assert.equal(execArgument('--hidden'), '--hidden');
  });

  it('quotes arguments with reserved characters and escapes as the Desktop Entry spec says', () => {
    assert.equal(execArgument('/home/me/My Apps/Gatehouse.AppImage'), '"/home/me/My Apps/Gatehouse.AppImage"');
    // Inside quotes " ` $ \ get a backslash; then the string-value rule doubles every backslash.
    assert.equal(execArgument('/a "b"'), '"/a \\\\"b\\\\""');
    assert.equal(execArgument('/a$b'), '"/a\\\\$b"');
    assert.equal(execArgument('/a\\b'), '"/a\\\\\\\\b"');
    assert.equal(execArgument("/it's"), '"/it\'s"');
    assert.equal(execArgument('/100%'), '/100%%', 'a % is not a field code');
  });

  it('starts the app hidden in the tray', () => {
    const entry = desktopEntry({ executable: '/opt/Gatehouse/gatehouse', args: ['--hidden'] });
    assert.equal(execLine(entry), 'Exec=/opt/Gatehouse/gatehouse --hidden');
    assert.match(entry, /^\[Desktop Entry\]\nType=Application\n/);
    assert.match(entry, /\nName=Gatehouse\n/);
    assert.match(entry, /\nX-GNOME-Autostart-enabled=true\n$/);
  });

  it('refuses a path that a desktop entry cannot hold', () => {
    assert.throws(() => desktopEntry({ executable: '/opt/Gate\nhouse', args: [] }), /control characters/);
  });
});

describe('launchCommand', () => {
  it('starts the installed executable with --hidden', () => {
    assert.deepEqual(launchCommand({ execPath: '/opt/Gatehouse/gatehouse', env: {} }), {
      executable: '/opt/Gatehouse/gatehouse',
      args: ['--hidden'],
    });
  });

  it('starts the AppImage file, not its temporary mount', () => {
    const command = launchCommand({ execPath: '/tmp/.mount_GatehoXYZ/gatehouse', env: { APPIMAGE: '/home/me/Apps/Gatehouse.AppImage' } });
    assert.equal(command.executable, '/home/me/Apps/Gatehouse.AppImage');
  });

  it('passes the app directory first in development (electron .)', () => {
    const command = launchCommand({ execPath: '/src/node_modules/electron/dist/electron', env: {}, appPath: '/src' });
    assert.deepEqual(command.args, ['/src', '--hidden']);
  });
});

describe('applyLinuxAutostart', () => {
  const command = { executable: '/opt/Gatehouse/gatehouse', args: ['--hidden'] };

  it('writes the entry, creating the autostart directory, readable by the desktop', async () => {
    const dir = join(work, 'fresh', 'autostart');
    await applyLinuxAutostart(true, command, dir);
    const file = join(dir, AUTOSTART_FILE_NAME);
    assert.equal(readFileSync(file, 'utf8'), desktopEntry(command));
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir), [AUTOSTART_FILE_NAME], 'no temp file left behind');
  });

  it('replaces an entry that points elsewhere, and leaves a current one untouched', async () => {
    const dir = join(work, 'replace');
    await applyLinuxAutostart(true, { executable: '/old/place/gatehouse', args: ['--hidden'] }, dir);
    await applyLinuxAutostart(true, command, dir);
    const file = join(dir, AUTOSTART_FILE_NAME);
    assert.equal(execLine(readFileSync(file, 'utf8')), 'Exec=/opt/Gatehouse/gatehouse --hidden');
    const before = statSync(file).ino;
    await applyLinuxAutostart(true, command, dir);
    assert.equal(statSync(file).ino, before, 'not rewritten when nothing changed');
  });

  it('removes the entry when turned off, and is fine when there is none', async () => {
    const dir = join(work, 'remove');
    await applyLinuxAutostart(true, command, dir);
    writeFileSync(join(dir, 'other-app.desktop'), '[Desktop Entry]\n');
    await applyLinuxAutostart(false, command, dir);
    assert.deepEqual(readdirSync(dir), ['other-app.desktop'], 'only our entry goes');
    await applyLinuxAutostart(false, command, dir);
    await applyLinuxAutostart(false, command, join(work, 'never-created'));
  });

  it('fails with the file system’s error when the directory cannot be written', async () => {
    const blocker = join(work, 'not-a-dir');
    writeFileSync(blocker, '');
    await assert.rejects(applyLinuxAutostart(true, command, join(blocker, 'autostart')), /ENOTDIR|EEXIST/);
  });
});
