// What the proxy panel says about where the proxy listens, as pure functions so the words are
// unit-tested without a page.
import type { Route } from '../../../shared/model.js';
import type { ListenerInfo } from '../../../shared/status.js';

/** 127.0.0.0/8 and ::1 (also as ::ffff:127.x): addresses only this machine can connect to. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1' || address === 'localhost';
}

/** The listeners bound to loopback only, so other devices cannot reach them. */
export function loopbackOnly(listeners: readonly (ListenerInfo | null)[]): boolean {
  const bound = listeners.filter((listener): listener is ListenerInfo => listener !== null);
  return bound.length > 0 && bound.every((listener) => isLoopback(listener.address));
}

/** The routes that answer now and stop answering when the proxy stops: the enabled ones. */
export function servicesGoingOffline(routes: readonly Route[]): Route[] {
  return routes.filter((route) => route.enabled);
}

/** "Stop the proxy?" dialog's sentence: how many services go offline, in words. */
export function stopProxyConsequence(count: number): string {
  if (count === 0) return 'No route is enabled, so no service goes offline; the ports are released.';
  const services = count === 1 ? '1 service goes' : `${count} services go`;
  return `${services} offline: nothing answers on this machine's HTTP and HTTPS ports until you start the proxy again.`;
}
