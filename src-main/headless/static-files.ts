// Serves the built web UI (dist/renderer) on the admin port: GET and HEAD only, paths resolved inside
// the renderer directory (no `..`, no symlink escapes), a content type for every file Vite emits.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { escapeHtml } from '../core/html.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file a URL path names inside `root`, or null when it would leave `root` (`..`, an encoded
 * slash or backslash trick, a NUL byte) or cannot be decoded. Does not touch the disk.
 */
export function resolveInside(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || !decoded.startsWith('/')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  const base = resolve(root);
  const file = resolve(base, relative);
  return file.startsWith(base + sep) ? file : null;
}

function notBuiltPage(root: string): string {
  return `<!doctype html><meta charset="utf-8"><title>Gatehouse</title>
<h1>The Gatehouse web UI is not built</h1>
<p>Run <code>npm run build</code> in Gatehouse's directory, then reload this page. (Looked for ${escapeHtml(join(root, 'index.html'))}.)</p>
<p>The API under <code>/api/</code> works without it.</p>\n`;
}

function sendText(response: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}

async function regularFileInside(root: string, file: string): Promise<{ path: string; size: number } | null> {
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (!realFile.startsWith(realRoot + sep)) return null;
    const info = await stat(realFile);
    return info.isFile() ? { path: realFile, size: info.size } : null;
  } catch {
    return null;
  }
}

export function createStaticFiles(root: string): (request: IncomingMessage, response: ServerResponse, pathname: string) => Promise<void> {
  return async (request, response, pathname) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendText(response, 405, 'Only GET and HEAD are served here.\n');
      return;
    }
    const wanted = resolveInside(root, pathname);
    const found = wanted ? await regularFileInside(root, wanted) : null;
    if (!found) {
      if (pathname === '/' || pathname === '/index.html') sendText(response, 503, notBuiltPage(root), 'text/html; charset=utf-8');
      else sendText(response, 404, 'Not found.\n');
      return;
    }
    response.writeHead(200, {
      'content-type': contentTypeFor(found.path),
      'content-length': found.size,
      // Vite puts a content hash in every asset name under assets/; the page itself must be re-read.
      'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    await pipeline(createReadStream(found.path), response);
  };
}
