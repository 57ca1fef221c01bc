// What a launch of the desktop executable was asked to do. `gatehouse serve …` typed at a desktop
// where /usr/bin/gatehouse is the Electron app runs the headless server instead of the window: the
// same executable, started again as plain Node (ELECTRON_RUN_AS_NODE) on bin/gatehouse.js. Plain
// node, tested under node; main.ts acts on it before Electron opens anything.

/** The subcommands of bin/gatehouse.js that a desktop launch hands over to it. */
const CLI_COMMANDS = new Set(['serve']);

/**
 * The arguments for bin/gatehouse.js when this launch is a CLI command, else null. `argv` is
 * process.argv: [electron, app dir, …] in development, [executable, …] when packaged.
 */
export function cliArguments(argv: readonly string[], isPackaged: boolean): string[] | null {
  const args = argv.slice(isPackaged ? 1 : 2);
  const first = args[0];
  return first !== undefined && CLI_COMMANDS.has(first) ? [...args] : null;
}

/** The environment for running the executable as plain Node. */
export function runAsNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, ELECTRON_RUN_AS_NODE: '1' };
}
