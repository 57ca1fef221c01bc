// Where the window was and how big: kept in userData/window-state.json (not settings.json: it is not a
// setting, and it changes every time the window moves), restored at the next launch when it would
// still be on a screen. Plain node, tested under node; window.ts feeds it Electron's rectangles.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../core/settings/durable-file.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The window's normal (not maximized) bounds, and whether it was maximized. */
export interface WindowState extends Rect {
  maximized: boolean;
}

export const WINDOW_STATE_FILE = 'window-state.json';

/** The UI is designed from 1024×700 up; smaller windows are refused (and clamped to the screen). */
export const MIN_WINDOW_SIZE = { width: 1024, height: 700 } as const;
/** A first launch: comfortable on a 1366×768 laptop after clamping, roomy on anything bigger. */
export const DEFAULT_WINDOW_SIZE = { width: 1280, height: 820 } as const;

/** How much of the window's title bar must be on some screen for the saved place to be reused. */
const TITLE_BAR_HEIGHT = 32;
const MIN_VISIBLE_TITLE_WIDTH = 120;
/** Bigger than any screen is a corrupt file, not a window. */
const MAX_COORDINATE = 100_000;

const isInt = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** The stored state, or null for a missing, unreadable or implausible file (the window then opens centred). */
export function parseWindowState(text: string): WindowState | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const { x, y, width, height, maximized } = data as Record<string, unknown>;
  if (!isInt(x, -MAX_COORDINATE, MAX_COORDINATE) || !isInt(y, -MAX_COORDINATE, MAX_COORDINATE)) return null;
  if (!isInt(width, 1, MAX_COORDINATE) || !isInt(height, 1, MAX_COORDINATE)) return null;
  if (typeof maximized !== 'boolean') return null;
  return { x, y, width, height, maximized };
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/**
 * Whether a window at `rect` can be reached: enough of its title bar (to grab and move it) lies on one
 * screen's work area. A monitor unplugged since, or a resolution lowered, makes this false.
 */
export function isReachable(rect: Rect, workAreas: readonly Rect[]): boolean {
  const titleBar = { x: rect.x, y: rect.y, width: rect.width, height: Math.min(TITLE_BAR_HEIGHT, rect.height) };
  return workAreas.some((area) => {
    const shared = overlap(titleBar, area);
    return shared.width >= Math.min(MIN_VISIBLE_TITLE_WIDTH, rect.width) && shared.height >= titleBar.height;
  });
}

/** The window's options at launch: a place only when the saved one is reachable (else Electron centres it). */
export interface InitialBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

/** The smallest window allowed on a screen: the designed minimum, or the whole screen when it is smaller. */
export function minimumSize(area: Rect): { width: number; height: number } {
  return { width: Math.min(MIN_WINDOW_SIZE.width, area.width), height: Math.min(MIN_WINDOW_SIZE.height, area.height) };
}

/** Fits a size to a work area (a saved size from a bigger screen), never below the minimum. */
function fit(size: { width: number; height: number }, area: Rect): { width: number; height: number } {
  const min = minimumSize(area);
  return {
    width: Math.max(min.width, Math.min(size.width, area.width)),
    height: Math.max(min.height, Math.min(size.height, area.height)),
  };
}

export function initialBounds(saved: WindowState | null, workAreas: readonly Rect[], primary: Rect): InitialBounds {
  if (saved && isReachable(saved, workAreas)) {
    const area = workAreas.find((candidate) => isReachable(saved, [candidate])) ?? primary;
    return { x: saved.x, y: saved.y, ...fit(saved, area), maximized: saved.maximized };
  }
  // Centred on the primary screen at the default size; still maximized if it was.
  return { ...fit(DEFAULT_WINDOW_SIZE, primary), maximized: saved?.maximized ?? false };
}

export async function readWindowState(dir: string): Promise<WindowState | null> {
  const text = await fs.readFile(join(dir, WINDOW_STATE_FILE), 'utf8').catch(() => null);
  return text === null ? null : parseWindowState(text);
}

/**
 * Writes the latest state `delayMs` after the last change (a drag sends dozens of moves), one write at
 * a time, through temp file + rename. `flush` writes a pending state now (on quit).
 */
export class WindowStateSaver {
  readonly #file: string;
  readonly #delayMs: number;
  readonly #onError: (error: unknown) => void;
  #pending: WindowState | null = null;
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();
  #lastWritten: string | null = null;

  constructor(dir: string, options: { delayMs?: number; onError?: (error: unknown) => void } = {}) {
    this.#file = join(dir, WINDOW_STATE_FILE);
    this.#delayMs = options.delayMs ?? 500;
    this.#onError = options.onError ?? ((error) => console.error('Gatehouse: saving the window position failed', error));
  }

  /** Records the newest state; it is written once the window has been still for the delay. */
  schedule(state: WindowState): void {
    this.#pending = state;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.flush(), this.#delayMs);
    this.#timer.unref();
  }

  /** Writes the pending state now, if any; resolves when it (and any write before it) is on disk. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const state = this.#pending;
    this.#pending = null;
    if (state) {
      const content = `${JSON.stringify(state)}\n`;
      this.#writing = this.#writing.then(async () => {
        if (content === this.#lastWritten) return;
        try {
          await writeFileDurably(this.#file, content, { mode: 0o600 });
          this.#lastWritten = content;
        } catch (error) {
          this.#onError(error);
        }
      });
    }
    return this.#writing;
  }
}
