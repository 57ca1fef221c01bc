// How the page writes the proxy's state and addresses, in one place.
import type { ListenerInfo, ProxyState } from '../shared/model.js';

export const stateLabels: Record<ProxyState, string> = {
  stopped: 'Stopped',
  starting: 'Starting…',
  running: 'Running',
  stopping: 'Stopping…',
  failed: 'Failed',
};

/** "0.0.0.0:80", "[::1]:8080": an address as a person would type it. */
export function listenerAddress(listener: ListenerInfo): string {
  const host = listener.address.includes(':') ? `[${listener.address}]` : listener.address;
  return `${host}:${listener.port}`;
}

/** Whether the listener answers on every interface (so the LAN can reach it), not one address. */
export function listensEverywhere(listener: ListenerInfo): boolean {
  return listener.address === '0.0.0.0' || listener.address === '::';
}
