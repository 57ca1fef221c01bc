// Every page of the app: each folder under pages/ with a page.ts is one. Vite resolves the glob at
// build time, so adding a page is adding a folder (see pages/README.md).
import type { PageDefinition } from './page-definition.js';

const modules = import.meta.glob<PageDefinition>('../pages/*/page.ts', { eager: true, import: 'default' });

export const pages: PageDefinition[] = Object.values(modules);

/** The pages in the main navigation, in their declared order. */
export const navPages = pages
  .filter((page): page is PageDefinition & { nav: NonNullable<PageDefinition['nav']> } => page.nav !== undefined)
  .sort((a, b) => a.nav.order - b.nav.order);
