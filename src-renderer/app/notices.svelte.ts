// The short messages the shell announces in its role="status" region ("Route saved", "Route
// deleted" with Undo). One at a time: a newer message replaces the older, so the region always
// says what just happened.
export interface NoticeAction {
  label: string;
  run: () => void | Promise<void>;
}

export interface Notice {
  id: number;
  message: string;
  action: NoticeAction | null;
}

export interface NoticeTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** How long a plain message stays. */
export const NOTICE_MS = 8_000;
/** How long a message with an action (Undo) stays: long enough to notice it and reach the button. */
export const ACTION_NOTICE_MS = 15_000;

export class Notices {
  current = $state.raw<Notice | null>(null);

  readonly #timers: NoticeTimers;
  #nextId = 1;
  #timer: unknown = null;

  constructor(timers: NoticeTimers = { setTimeout: (run, ms) => setTimeout(run, ms), clearTimeout: (h) => clearTimeout(h as number) }) {
    this.#timers = timers;
  }

  announce(message: string, action: NoticeAction | null = null): Notice {
    const notice: Notice = { id: this.#nextId++, message, action };
    this.current = notice;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => this.dismiss(notice.id), action ? ACTION_NOTICE_MS : NOTICE_MS);
    return notice;
  }

  /** Removes the notice if it is still the one shown. */
  dismiss(id: number): void {
    if (this.current?.id !== id) return;
    this.current = null;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Runs the notice's action once; the notice goes away so the action cannot run twice. */
  async act(notice: Notice): Promise<void> {
    if (!notice.action || this.current?.id !== notice.id) return;
    this.dismiss(notice.id);
    await notice.action.run();
  }
}
