// Reads a secret from the terminal without echoing it, or one line from standard input when that
// is not a terminal (scripts, tests: `printf '%s\n' "$PW" | gatehouse set-password`).
import type { ReadStream } from 'node:tty';

/** One line typed at the terminal, not shown. Ctrl+C or Ctrl+D gives null. */
export function readHiddenLine(prompt: string, stdin: ReadStream = process.stdin as ReadStream, stderr: NodeJS.WriteStream = process.stderr): Promise<string | null> {
  return new Promise((resolve) => {
    let text = '';
    const finish = (value: string | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(text);
        if (char === '\u0003' || char === '\u0004') return finish(null);
        if (char === '\u007f' || char === '\b') text = [...text].slice(0, -1).join('');
        else if (char >= ' ') text += char;
      }
    };
    // Echo goes off before the prompt appears, so nothing typed after the prompt is ever shown.
    stdin.setRawMode(true);
    stderr.write(prompt);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** The first line of standard input, without its line ending; at most 64 KiB are read. */
export async function readFirstLine(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += chunk.toString();
    if (text.includes('\n') || text.length > 65536) break;
  }
  return text.split(/\r?\n/)[0]!;
}
