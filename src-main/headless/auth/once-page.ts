// The page a used, expired or unknown one-time link answers with: what happened and what to do,
// in the look of Gatehouse's other built-in pages, and nothing about why this code failed.
import { escapeHtml } from '../../core/html.js';
import { setPasswordCommandName } from './set-password-command.js';

// The same look as the proxy's error pages (src-main/core/proxy/error-page.ts).
const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1c2026}' +
  'main{max-width:36rem;padding:2rem}h1{font-size:1.4rem;margin:0 0 .5rem}p{margin:.5rem 0}code{white-space:nowrap}a{color:#1d5fc4}.code{color:#5b6472;font-size:.85rem}' +
  '@media (prefers-color-scheme:dark){body{background:#15181d;color:#e6e8eb}a{color:#8fb8f5}.code{color:#9aa3ad}}';

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
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(heading)}</title><style>${STYLE}</style></head><body><main>` +
    `<h1>${escapeHtml(heading)}</h1>${paragraphs.map((text) => `<p>${text}</p>`).join('')}` +
    `<p class="code">answered by Gatehouse</p></main></body></html>\n`
  );
}
