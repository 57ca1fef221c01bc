// The shell's routing: which page a hash shows (static segments beat parameters), and the hash
// router following the address bar and redirecting without a history entry.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillPath, findPage, matchPath, pathFromHash } from '../../src-renderer/shell/page-match.js';
import type { HashWindow } from '../../src-renderer/shell/router.svelte.js';

const { HashRouter } = await import('../../src-renderer/shell/router.svelte.js');

const pages = [{ path: '/' }, { path: '/routes/:id' }, { path: '/routes/new' }, { path: '/logs' }, { path: '/welcome' }];

describe('page matching', () => {
  it('reads the path from the hash', () => {
    assert.equal(pathFromHash(''), '/');
    assert.equal(pathFromHash('#'), '/');
    assert.equal(pathFromHash('#/'), '/');
    assert.equal(pathFromHash('#/logs/'), '/logs');
    assert.equal(pathFromHash('#logs'), '/logs');
    assert.equal(pathFromHash('#/logs?x=1'), '/logs');
  });

  it('prefers a static segment over a parameter, whatever the order of the pages', () => {
    assert.equal(findPage(pages, '/routes/new')?.page.path, '/routes/new');
    assert.equal(findPage([...pages].reverse(), '/routes/new')?.page.path, '/routes/new');
    assert.deepEqual(findPage(pages, '/routes/route-7')?.params, { id: 'route-7' });
  });

  it('decodes parameters and finds nothing for unknown or malformed paths', () => {
    assert.deepEqual(matchPath('/routes/:id', '/routes/a%20b'), { id: 'a b' });
    assert.equal(matchPath('/routes/:id', '/routes/%E0%A4%A'), null);
    assert.equal(findPage(pages, '/nowhere'), null);
    assert.equal(findPage(pages, '/routes/a/b'), null);
    assert.equal(fillPath('/routes/:id', { id: 'a b' }), '/routes/a%20b');
  });
});

function fakeWindow(hash = '') {
  const listeners = new Set<() => void>();
  const replaced: string[] = [];
  const win: HashWindow = {
    location: {
      get hash() {
        return hash;
      },
      set hash(value: string) {
        hash = value.startsWith('#') ? value : `#${value}`;
        for (const listener of [...listeners]) listener(); // as the browser fires hashchange
      },
    },
    history: {
      replaceState: (_data, _unused, url) => {
        hash = String(url);
        replaced.push(String(url));
      },
    },
    addEventListener: (_type, listener) => void listeners.add(listener),
    removeEventListener: (_type, listener) => void listeners.delete(listener),
  };
  return { win, listeners, replaced };
}

describe('HashRouter', () => {
  it('shows the page the hash names and follows hash changes', () => {
    const env = fakeWindow('#/logs');
    const router = new HashRouter(pages, env.win);
    const stop = router.start();
    assert.equal(router.current?.page.path, '/logs');
    assert.equal(router.navigations, 0);
    router.navigate('/routes/r1');
    assert.equal(router.path, '/routes/r1');
    assert.deepEqual(router.current?.params, { id: 'r1' });
    assert.equal(router.navigations, 1);
    stop();
    assert.equal(env.listeners.size, 0);
  });

  it('redirects with replaceState, leaving no history entry', () => {
    const env = fakeWindow('');
    const router = new HashRouter(pages, env.win);
    router.start();
    assert.equal(router.path, '/');
    router.navigate('/welcome', { replace: true });
    assert.deepEqual(env.replaced, ['#/welcome']);
    assert.equal(router.current?.page.path, '/welcome');
  });

  it('has no page for an unknown hash (the shell shows "Page not found")', () => {
    const router = new HashRouter(pages, fakeWindow('#/nowhere').win);
    assert.equal(router.current, null);
  });
});
