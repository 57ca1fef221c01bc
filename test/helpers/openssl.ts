// Runs the real openssl command line for certificate tests, without blocking the event loop (the
// same process may be serving a TLS handshake the test drives).
import { execFile } from 'node:child_process';

export interface OpensslResult {
  code: number;
  /** stdout and stderr together: openssl prints verify errors on either, depending on version. */
  output: string;
}

/** `openssl ...args`; resolves with the exit code instead of throwing on failure. */
export function openssl(...args: string[]): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : NaN) : 0;
      if (Number.isNaN(code)) reject(error as Error);
      else resolve({ code, output: stdout + stderr });
    });
  });
}
