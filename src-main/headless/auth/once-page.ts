// The one-time link's pages, in the look of Gatehouse's other built-in pages: the button a live link
// shows, and what a used, expired or unknown one answers with (what to do, nothing about why).
import { escapeHtml } from '../../core/html.js';
import { setPasswordCommandName } from './set-password-command.js';

// The same look as the proxy's error pages (src-main/core/proxy/error-page.ts).
const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1c2026}' +
  'main{max-width:36rem;padding:2rem}h1{font-size:1.4rem;margin:0 0 .5rem}p{margin:.5rem 0}code{white-space:nowrap}a{color:#1d5fc4}.code{color:#5b6472;font-size:.85rem}' +
  'button{font:inherit;font-weight:600;margin:1rem 0 .5rem;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#1d5fc4;color:#fff;cursor:pointer}' +
  'button:focus-visible{outline:3px solid #8fb8f5;outline-offset:2px}' +
  '@media (prefers-color-scheme:dark){body{background:#15181d;color:#e6e8eb}a{color:#8fb8f5}.code{color:#9aa3ad}button{background:#8fb8f5;color:#15181d}}';

function page(heading: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(heading)}</title><style>${STYLE}</style></head><body><main>` +
    `<h1>${escapeHtml(heading)}</h1>${body}<p class="code">answered by Gatehouse</p></main></body></html>\n`
  );
}

/**
 * What GET on a live one-time link shows: a button that spends it. Link previews and mail scanners
 * fetch links but do not press buttons, so the link is still there for its owner.
 */
export function onceLinkPage(action: string): string {
  return page(
    'Sign in to Gatehouse',
    '<p>This one-time link signs one browser in to the Gatehouse admin, once. Then you choose the admin password.</p>' +
      `<form method="post" action="${escapeHtml(action)}"><button type="submit">Sign in with this link</button></form>` +
      '<p>Did you not open this link yourself? Then close this page.</p>',
  );
}

export function onceLinkRefusedPage(limited: boolean): string {
  const heading = limited ? 'Too many tries from this device' : 'This sign-in link does not work any more';
  const why = limited
    ? 'Wait a few minutes before you try another link.'
    : 'A one-time link signs one browser in once, for 30 minutes after Gatehouse starts. This one was used already or has expired.';
  const paragraphs = [
    why,
    'If a password is set, <a href="/">sign in with it</a>.',
    `On the server, run <code>${escapeHtml(setPasswordCommandName())}</code> to set the admin password, or restart <code>gatehouse serve</code> to print a new link.`,
  ];
  return page(heading, paragraphs.map((text) => `<p>${text}</p>`).join(''));
}
