// `gatehouse set-password`: sets the admin password (or turns the second factor off) in
// DATA_DIR/admin-auth.json, on the server itself, for a headless machine where nobody has opened
// the web UI yet or where the owner is locked out. Every session ends. A running `serve` re-reads
// the file when it changes, so no restart is needed.
import { mkdir } from 'node:fs/promises';
import { PasswordSchema } from '../../../shared/admin-auth.js';
import type { SetPasswordOptions } from '../options.js';
import { withAuthFileLock } from './auth-file-lock.js';
import { authFilePath, readAuthFile, writeAuthFile, type AuthFileData } from './auth-file.js';
import { readFirstLine, readHiddenLine } from './hidden-input.js';
import { hashPassword } from './password-hash.js';

/**
 * How a person runs this command here: the .deb's gatehouse-serve wrapper runs the app's own
 * executable as Node (ELECTRON_RUN_AS_NODE), and there `gatehouse` is the desktop app.
 */
export function setPasswordCommandName(): string {
  return process.env.ELECTRON_RUN_AS_NODE ? 'gatehouse-serve set-password' : 'gatehouse set-password';
}

/** Resolves with the exit code: 0 done, 1 the password was refused or the terminal closed. */
export async function setPassword(options: SetPasswordOptions): Promise<number> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  if (options.disableTotp) {
    const changed = await changeAuthFile(options.dataDir, (data) => {
      if (!data.totp) return false;
      data.totp = null;
      data.sessions = [];
      return true;
    });
    if (!changed) {
      console.log('The second factor is off already; nothing changed.');
      return 0;
    }
    console.log(`The second factor is off and every browser is signed out (${authFilePath(options.dataDir)}).`);
    console.log('Sign in with the password alone, then turn it on again under Settings.');
    return 0;
  }

  const password = await askForPassword();
  if (password === null) return 1;
  const hash = await hashPassword(password);
  await changeAuthFile(options.dataDir, (data) => {
    data.password = { hash, changedAt: Date.now() };
    data.sessions = [];
    return true;
  });
  console.log(`The admin password is set; every browser was signed out. Sign in to the web UI with it.`);
  return 0;
}

/** Reads, changes and writes the file under the lock a running serve takes too; `change` says whether to write. */
function changeAuthFile(dataDir: string, change: (data: AuthFileData) => boolean): Promise<boolean> {
  return withAuthFileLock(dataDir, async () => {
    const { data } = await readAuthFile(dataDir);
    if (!change(data)) return false;
    await writeAuthFile(dataDir, data);
    return true;
  });
}

async function askForPassword(): Promise<string | null> {
  const interactive = process.stdin.isTTY === true;
  const first = interactive ? await readHiddenLine('New admin password: ') : await readFirstLine();
  if (first === null) return null;
  const checked = PasswordSchema.safeParse(first);
  if (!checked.success) {
    console.error(`gatehouse: ${checked.error.issues[0]!.message}`);
    return null;
  }
  if (interactive) {
    const again = await readHiddenLine('The same again: ');
    if (again !== first) {
      console.error('gatehouse: the two passwords differ; nothing changed.');
      return null;
    }
  }
  return checked.data;
}
