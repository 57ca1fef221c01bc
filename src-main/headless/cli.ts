// Entry point of the `gatehouse` command (bin/gatehouse.js loads the built copy of this file).
import { parseCommandLine, UsageError } from './options.js';
import { challengePortOverride, dnsServerOverride } from '../core/gateway/acme-preflight.js';
import { packageVersion } from '../core/package-root.js';
import { serve } from './serve.js';
import { setPassword } from './auth/set-password-command.js';

/** Runs the command line; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`gatehouse: ${error.message} (see "gatehouse --help")`);
    return 2;
  }
  switch (command.kind) {
    case 'help':
      console.log(command.text);
      return 0;
    case 'version':
      console.log(`gatehouse ${packageVersion()}`);
      return 0;
    case 'serve':
    case 'set-password':
      if (command.kind === 'serve') {
        // A bad environment variable is a usage mistake like a bad flag: one line, not a stack trace.
        try {
          dnsServerOverride(process.env.GATEHOUSE_DNS_SERVER);
          challengePortOverride(process.env.GATEHOUSE_ACME_HTTP_PORT);
        } catch (error) {
          console.error(`gatehouse: ${(error as Error).message}`);
          return 2;
        }
      }
      try {
        return command.kind === 'serve' ? await serve(command.options) : await setPassword(command.options);
      } catch (error) {
        // A file-system failure (data directory not writable, disk full) is the user's to fix: one line.
        const errno = (error as NodeJS.ErrnoException).code ?? ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
        if (typeof errno !== 'string' || !/^E[A-Z]+$/.test(errno)) throw error;
        console.error(`gatehouse: ${(error as Error).message}`);
        return 1;
      }
  }
}
