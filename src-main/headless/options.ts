// The command line: `gatehouse serve [flags]`, --help and --version. Every flag value is checked
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

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'serve'; options: ServeOptions };

/** A command line Gatehouse cannot run; the message is one line for the user. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function usage(): string {
  return `Usage: gatehouse serve [options]

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

Flags apply to this run only; they are not saved in the settings. Port 0 picks a free port.`;
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
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw explainParseError(error as Error);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('no command given; run "gatehouse serve"');
  if (command !== 'serve') throw new UsageError(`unknown command "${command}"; the command is "gatehouse serve"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const dataDir = values['data-dir'];
  if (dataDir !== undefined && dataDir.trim() === '') throw new UsageError('--data-dir needs a directory');
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
