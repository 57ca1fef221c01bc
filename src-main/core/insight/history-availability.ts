// Up/down history of one route and its upstreams, kept as transitions in a small text file
// (`<unix seconds> <state> <key>` per line, key "-" for the route, else the upstream's URL),
// appended as states change and rewritten when pruned (30 days). A torn last line is skipped.
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Availability, UpDownSpan } from '../../../shared/insight.js';

export type UpState = UpDownSpan['state'];
export const ROUTE_KEY = '-';
/** Transitions older than this are pruned (the state at the cut is kept). Default: 30 days. */
export const AVAILABILITY_KEEP_SECONDS = 30 * 24 * 3600;
/** A key flapping more than this keeps only its newest transitions. */
const MAX_TRANSITIONS = 20_000;

interface Transition {
  at: number;
  state: UpState;
}

export class AvailabilityLog {
  private readonly byKey = new Map<string, Transition[]>();

  private constructor(private readonly path: string) {}

  static open(path: string, warn: (message: string) => void): AvailabilityLog {
    const log = new AvailabilityLog(path);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return log;
    }
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const match = /^(\d{1,12}) (up|down|off) (\S{1,2048})$/.exec(line);
      if (!match) {
        bad++;
        continue;
      }
      log.push(match[3] as string, { at: Number(match[1]), state: match[2] as UpState });
    }
    if (bad > 0) warn(`gatehouse: skipped ${bad} unreadable line(s) of the up/down history in ${path}`);
    return log;
  }

  /** The state `key` is in now (its last transition), or null when none is recorded. */
  current(key: string): UpState | null {
    return this.byKey.get(key)?.at(-1)?.state ?? null;
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** Records a change of state at `at`; nothing when it is the state already. */
  set(key: string, state: UpState, at: number): void {
    if (this.current(key) === state) return;
    this.push(key, { at, state });
    appendFileSync(this.path, `${at} ${state} ${key}\n`);
  }

  /** Forgets keys no longer wanted and transitions older than the kept window; rewrites the file. */
  prune(keep: ReadonlySet<string>, now: number): void {
    const cut = now - AVAILABILITY_KEEP_SECONDS;
    for (const [key, list] of this.byKey) {
      if (!keep.has(key)) {
        this.byKey.delete(key);
        continue;
      }
      let first = 0;
      while (first + 1 < list.length && (list[first + 1] as Transition).at <= cut) first++;
      const kept = list.slice(Math.max(first, list.length - MAX_TRANSITIONS));
      if (kept.length > 0 && (kept[0] as Transition).at < cut) kept[0] = { at: cut, state: (kept[0] as Transition).state };
      this.byKey.set(key, kept);
    }
    const lines: string[] = [];
    for (const [key, list] of this.byKey) for (const t of list) lines.push(`${t.at} ${t.state} ${key}\n`);
    writeFileSync(`${this.path}.new`, lines.join(''));
    renameSync(`${this.path}.new`, this.path);
  }

  /** The spans of `key` over [from, to) (Unix seconds); the last runs on (`to` null) when it is still the state at `now`. */
  availability(key: string, from: number, to: number, now: number): Availability {
    const list = this.byKey.get(key) ?? [];
    const spans: UpDownSpan[] = [];
    let state: UpState = 'off';
    let start = from;
    for (const t of list) {
      if (t.at <= from) {
        state = t.state;
        continue;
      }
      if (t.at >= to) break;
      if (t.state === state) continue;
      if (t.at > start) spans.push({ from: start, to: t.at, state });
      state = t.state;
      start = t.at;
    }
    const end = Math.min(to, now);
    if (end > start) spans.push({ from: start, to: to >= now ? null : end, state });
    let up = 0;
    let known = 0;
    for (const span of spans) {
      const length = (span.to ?? end) - span.from;
      if (span.state !== 'off') known += length;
      if (span.state === 'up') up += length;
    }
    return { spans, upFraction: known > 0 ? up / known : null };
  }

  private push(key: string, transition: Transition): void {
    let list = this.byKey.get(key);
    if (!list) this.byKey.set(key, (list = []));
    // Written in order; a clock set back must not make time run backwards inside a list.
    const last = list.at(-1);
    if (last && transition.at < last.at) transition = { ...transition, at: last.at };
    list.push(transition);
    if (list.length > MAX_TRANSITIONS * 2) list.splice(0, list.length - MAX_TRANSITIONS);
  }
}
