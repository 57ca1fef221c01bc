// The command line: `gatehouse serve [flags]`, `gatehouse set-password`, --help and --version. Every flag value is checked
// here, so a typo ends with one line naming the flag and the expected form (exit 2), never a trace.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IpAddressSchema } from '../../shared/model.js';
import { defaultDataDir } from './data-dir.js';

export interface ServeOptions {
  dataDir: string;
  /** The proxy's HTTP port for this run (not saved). */
  httpPort?: number;
  /** The proxy's HTTPS port for this run (not saved). */
  httpsPort?: number;
  /** The proxy's listen address for this run (not saved). */
  bindAddress?: string;
  /** The admin API's port for this run; default: admin.port from the settings. */
  adminPort?: number;
  /** The admin API's address for this run; default: admin.bindAddress from the settings. */
  adminBindAddress?: string;
}

export interface SetPasswordOptions {
  dataDir: string;
  /** Turn the second factor off instead of setting a password (an owner who lost the authenticator). */
  disableTotp: boolean;
}

export type CliCommand =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'serve'; options: ServeOptions }
  | { kind: 'set-password'; options: SetPasswordOptions };

/** A command line Gatehouse cannot run; the message is one line for the user. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function usage(): string {
  return `Usage: gatehouse serve [options]
       gatehouse set-password [--data-dir DIR] [--disable-totp]

Runs the Gatehouse proxy without a window, with its web UI and API on the admin port.

Options:
  --data-dir DIR     settings, admin token and access log (default: ${defaultDataDir()})
  --http-port N      the proxy's HTTP port for this run (default: proxy.httpPort, 80)
  --https-port N     the proxy's HTTPS port for this run (default: proxy.httpsPort, 443)
  --bind ADDR        the proxy's listen address for this run (default: proxy.bindAddress, 0.0.0.0)
  --admin-port N     the web UI and API port (default: admin.port, 4780)
  --admin-bind ADDR  the web UI and API address (default: admin.bindAddress, 127.0.0.1)
  -h, --help         show this help
  -v, --version      show the version

Flags apply to this run only; they are not saved in the settings. Port 0 picks a free port.
"gatehouse set-password --help" explains signing in to the web UI.`;
}

export function setPasswordUsage(): string {
  return `Usage: gatehouse set-password [--data-dir DIR] [--disable-totp]

Sets the password that signs in to the web UI of "gatehouse serve". Run it on the server itself,
as the user that runs Gatehouse. It asks for the new password twice without showing it; when
standard input is not a terminal it reads one line from it instead (for scripts).

The password is kept only as an argon2id hash in DIR/admin-auth.json (mode 0600). Setting it
signs out every browser. A running "gatehouse serve" uses it at once, with no restart.

Options:
  --data-dir DIR   the data directory of "gatehouse serve" (default: ${defaultDataDir()})
  --disable-totp   turn the second factor (authenticator app) off instead, for an owner who lost
                   the phone and the recovery codes; signs out every browser, keeps the password
  -h, --help       show this help`;
}

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number <= 65535)) throw new UsageError(`--${flag} must be a port number from 0 to 65535, not "${value}"`);
  return number;
}

function address(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!IpAddressSchema.safeParse(value).success) {
    throw new UsageError(`--${flag} must be an IP address such as 0.0.0.0 (every interface) or 127.0.0.1, not "${value}"`);
  }
  return value;
}

/** Rewrites node:util's parse errors (long, aimed at developers) as one line for the user. */
function explainParseError(error: Error & { code?: string }): UsageError {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${option ?? ''}`.trim());
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(option ? `${option} needs a value` : error.message);
    default:
      return new UsageError(error.message);
  }
}

export function parseCommandLine(argv: readonly string[], dataDirDefault: () => string = defaultDataDir): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        'http-port': { type: 'string' },
        'https-port': { type: 'string' },
        'admin-port': { type: 'string' },
        bind: { type: 'string' },
        'admin-bind': { type: 'string' },
        'disable-totp': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw explainParseError(error as Error);
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (command === 'set-password' && (values.help || extra[0] === 'help')) return { kind: 'help', text: setPasswordUsage() };
  if (values.help || command === 'help') return { kind: 'help', text: extra[0] === 'set-password' ? setPasswordUsage() : usage() };
  if (values.version) return { kind: 'version' };
  if (command === undefined) throw new UsageError('no command given; run "gatehouse serve"');
  if (command !== 'serve' && command !== 'set-password') throw new UsageError(`unknown command "${command}"; the commands are "gatehouse serve" and "gatehouse set-password"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const dataDir = values['data-dir'];
  if (dataDir !== undefined && dataDir.trim() === '') throw new UsageError('--data-dir needs a directory');
  if (command === 'set-password') {
    const serveOnly = ['http-port', 'https-port', 'admin-port', 'bind', 'admin-bind'].find((flag) => values[flag as keyof typeof values] !== undefined);
    if (serveOnly) throw new UsageError(`--${serveOnly} is an option of "gatehouse serve", not of set-password`);
    return { kind: 'set-password', options: { dataDir: resolve(dataDir ?? dataDirDefault()), disableTotp: values['disable-totp'] === true } };
  }
  if (values['disable-totp']) throw new UsageError('--disable-totp is an option of "gatehouse set-password"');
  const options: ServeOptions = { dataDir: resolve(dataDir ?? dataDirDefault()) };
  const fields = {
    httpPort: port('http-port', values['http-port']),
    httpsPort: port('https-port', values['https-port']),
    bindAddress: address('bind', values.bind),
    adminPort: port('admin-port', values['admin-port']),
    adminBindAddress: address('admin-bind', values['admin-bind']),
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) Object.assign(options, { [key]: value });
  return { kind: 'serve', options };
}
