// Layout checks for the admin UI at any screen size: is anything wider than the screen, and is a
// control big enough to tap and really the thing a tap at its centre reaches. The checks run in the
// page as source text: tsx would wrap named functions in a helper (__name) the page does not have.
import type { Locator, Page } from 'playwright-core';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

export interface OverflowReport {
  scrollWidth: number;
  innerWidth: number;
  /** Visible elements whose right edge, after clipping by their ancestors, is past the screen's; and boxes that scroll sideways. */
  offenders: string[];
}

/**
 * Walks every visible element: its right edge, clipped by any ancestor that clips (overflow other
 * than visible, or a clip-path as the visually-hidden pattern uses), must lie within the screen.
 * Text cut with an ellipsis is clipped, so it passes; a box that scrolls sideways (a table wider
 * than its card) is reported, since a phone user would have to scroll it.
 */
const OVERFLOW_CHECK = `(() => {
  const limit = window.innerWidth + 0.5;
  const offenders = [];
  const describe = (el) => {
    const id = el.id ? '#' + el.id : '';
    const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).filter((c) => !c.startsWith('svelte-')).join('.') : '';
    const text = (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
    return el.tagName.toLowerCase() + id + cls + (text ? ' "' + text + '"' : '');
  };
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || style.visibility === 'collapse') continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      offenders.push('scrolls sideways (' + el.scrollWidth + ' px in ' + el.clientWidth + ' px): ' + describe(el));
    }
    let right = rect.right;
    let hidden = false;
    if (style.clipPath !== 'none' && rect.width <= 1) hidden = true;
    if (style.position !== 'fixed') {
      for (let a = el.parentElement; a && a !== document.body && !hidden; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX !== 'visible' || s.clipPath !== 'none') {
          const r = a.getBoundingClientRect();
          if (r.width <= 1) hidden = true;
          right = Math.min(right, r.right);
        }
        if (s.position === 'fixed') break;
      }
    }
    if (!hidden && right > limit) offenders.push('right edge at ' + Math.round(right) + ' px: ' + describe(el));
  }
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, offenders: offenders.slice(0, 15) };
})()`;

export function overflowReport(page: Page): Promise<OverflowReport> {
  return page.evaluate(OVERFLOW_CHECK) as Promise<OverflowReport>;
}

export interface TapCheck {
  width: number;
  height: number;
  /** Whether document.elementFromPoint at the centre is the control (or inside it). */
  hitsItself: boolean;
  /** What the centre reaches instead, when it is something else. */
  reached: string;
}

/** Scrolls `target` into view as the browser does for a tap, then checks its size and what its centre reaches. */
export async function tapCheck(target: Locator): Promise<TapCheck> {
  await target.scrollIntoViewIfNeeded();
  // An anonymous arrow with no named helpers inside, so tsx leaves it as written.
  return target.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return { width: r.width, height: r.height, hitsItself: hit !== null && (hit === el || el.contains(hit)), reached: hit ? hit.outerHTML.slice(0, 120) : 'nothing' };
  });
}
