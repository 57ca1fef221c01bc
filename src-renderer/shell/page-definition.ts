// What a page folder declares about itself in its page.ts; the shell finds every one of them (see
// pages.ts) and builds the navigation and the hash routes from these, so no central list exists.
import type { Component } from 'svelte';

export interface PageProps {
  /** The `:name` segments of the page's path, e.g. { id: "r1" } for /routes/:id. */
  params: Record<string, string>;
}

export interface PageDefinition {
  /** The hash path, e.g. "/logs" or "/routes/:id". Static segments win over `:params`. */
  path: string;
  /** The window title, and what the page's h1 says. */
  title: string;
  /** Where the page appears in the main navigation (ascending order); leave out for pages reached from others. */
  nav?: {
    label: string;
    order: number;
    /** Listed only in the web UI of `gatehouse serve`, which has sign-in; the Electron window has none. */
    webOnly?: boolean;
  };
  component: Component<PageProps>;
}

/** Declares a page; only here so a page.ts gets its type checked where it is written. */
export function definePage(page: PageDefinition): PageDefinition {
  return page;
}
