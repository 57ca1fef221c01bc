// Hash routing: the hash is the page's address (Electron loads the app from file://, where only the
// hash can change without a reload). Knows nothing about the pages themselves beyond their paths.
import { findPage, pathFromHash, type PageMatch, type PathPattern } from './page-match.js';

/** The parts of `window` the router uses, so it runs under node:test with a fake. */
export interface HashWindow {
  location: { hash: string };
  history: { replaceState(data: unknown, unused: string, url?: string): void };
  addEventListener(type: 'hashchange', listener: () => void): void;
  removeEventListener(type: 'hashchange', listener: () => void): void;
}

export class HashRouter<P extends PathPattern = PathPattern> {
  path = $state('/');
  /** How many times the page changed after the first: the shell moves focus only on a change. */
  navigations = $state(0);
  current = $derived.by((): PageMatch<P> | null => findPage(this.pages, this.path));

  readonly pages: readonly P[];
  readonly #window: HashWindow;

  constructor(pages: readonly P[], window: HashWindow) {
    this.pages = pages;
    this.#window = window;
    this.path = pathFromHash(window.location.hash);
  }

  /** Follows the address bar (links, back and forward) until the returned function is called. */
  start(): () => void {
    const follow = () => this.#show(pathFromHash(this.#window.location.hash));
    this.#window.addEventListener('hashchange', follow);
    return () => this.#window.removeEventListener('hashchange', follow);
  }

  /** Goes to `path`; `replace` leaves no history entry (redirects, leaving a form after saving). */
  navigate(path: string, options: { replace?: boolean } = {}): void {
    if (options.replace) {
      // replaceState fires no hashchange, so the page is switched here.
      this.#window.history.replaceState(null, '', `#${path}`);
      this.#show(path);
    } else {
      this.#window.location.hash = `#${path}`;
    }
  }

  #show(path: string): void {
    if (path === this.path) return;
    this.path = path;
    this.navigations += 1;
  }
}
