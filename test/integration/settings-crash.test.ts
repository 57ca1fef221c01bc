// A crash at any moment loses nothing that was acknowledged: a child process saves settings in a
// loop and is SIGKILLed at random moments; after each kill the file must be whole, valid, and hold
// at least the last save the child reported as acknowledged.
// SIGKILL tests the order of the write steps (temp, rename, backup); it cannot simulate power loss,
// where the fsyncs matter too, because the page cache survives the process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SettingsSchema } from '../../shared/model.js';
import { SettingsStore } from '../../src-main/core/settings/index.js';
import { highestCounter, tempDataDir } from '../fixtures/settings/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRITER = fileURLToPath(new URL('../fixtures/settings/crash-writer.ts', import.meta.url));
const ROUNDS = 15;
/** A child that has not acknowledged a save by then is broken, not slow. */
const FIRST_ACK_TIMEOUT_MS = 10_000;

interface Round {
  acks: number[];
  killDelayMs: number;
}

/** Starts the writer, SIGKILLs it a random 20–300 ms after its first ack, and returns every ack it printed. */
function runWriterAndKill(dataDir: string): Promise<Round> {
  const killDelayMs = 20 + Math.floor(Math.random() * 281);
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killTimer: NodeJS.Timeout | undefined;
  const giveUp = setTimeout(() => child.kill('SIGKILL'), FIRST_ACK_TIMEOUT_MS);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (!killTimer && stdout.includes('\n')) {
      clearTimeout(giveUp);
      killTimer = setTimeout(() => child.kill('SIGKILL'), killDelayMs);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(giveUp);
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL' || !killTimer) {
        reject(new Error(`the writer ended by itself (code ${code}, signal ${signal}) before it was killed:\n${stderr}`));
        return;
      }
      resolve({ acks: parseAcks(stdout), killDelayMs });
    });
  });
}

/** Only whole lines count: a line cut by the kill was never fully reported. */
function parseAcks(stdout: string): number[] {
  const lines = stdout.split('\n').slice(0, -1);
  return lines.map((line) => {
    const match = /^ack (\d+)$/.exec(line);
    assert.ok(match?.[1], `unexpected output from the writer: ${JSON.stringify(line)}`);
    return Number(match[1]);
  });
}

/** Checks the file as another program would, before the store gets a chance to repair anything. */
async function assertFileWholeAndValid(dataDir: string): Promise<void> {
  const text = await readFile(join(dataDir, 'settings.json'), 'utf8');
  const checked = SettingsSchema.safeParse(JSON.parse(text));
  assert.ok(checked.success, `settings.json is not valid after a kill: ${checked.error?.message}`);
  const aside = (await readdir(dataDir)).filter((name) => name.includes('unreadable'));
  assert.deepEqual(aside, [], 'nothing was ever kept aside as unreadable');
}

test('SIGKILL at random moments never loses an acknowledged save', { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDataDir(t);
  let lastAck = 0;
  let totalAcks = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const { acks, killDelayMs } = await runWriterAndKill(dataDir);
    assert.ok(acks.length > 0, `round ${round}: the writer acknowledged nothing`);
    assert.ok(acks[0]! > lastAck, `round ${round}: the writer resumed at ${acks[0]}, not after ${lastAck}`);
    lastAck = acks.at(-1)!;
    totalAcks += acks.length;

    await assertFileWholeAndValid(dataDir);
    const store = await SettingsStore.open(dataDir);
    assert.equal(store.notice, null, `round ${round}: ${store.notice?.message}`);
    const onDisk = highestCounter(store.current);
    assert.ok(onDisk >= lastAck, `round ${round} (killed ${killDelayMs} ms after the first ack): ack ${lastAck} was reported but the file holds ${onDisk}`);
    assert.ok(store.current.routes.length <= 20);
    t.diagnostic(`round ${round}: killed after ${killDelayMs} ms, acks ${acks[0]}…${lastAck}, on disk ${onDisk}`);
  }
  t.diagnostic(`${totalAcks} acknowledged saves over ${ROUNDS} kills`);
});
