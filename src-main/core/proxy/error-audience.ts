// Who may see a failure's detail on Gatehouse's own error page (proxy.errorDetails), provisioned
// once per settings change. The client is the one the request path already decided on: the socket's
// peer, or the real client behind a trusted proxy, so a proxy in front of Gatehouse never makes
// every visitor look local. The same decision says who sees the admin's LAN link on the /ca page.
import type { IncomingMessage } from 'node:http';
import type { ErrorDetailAudience } from '../../../shared/model.js';
import type { OwnNetworks } from '../net/own-networks.js';
import { loggedClient, type TrustedProxies } from './request-head.js';

export type DetailAudience = (client: string) => boolean;

/**
 * Headers a tunnel or another proxy (cloudflared, ngrok, Tailscale Funnel, a router's port-forward
 * helper) adds to name the real client; the underscore spellings are what some of them send, and
 * Node keeps them apart from the dashed ones.
 */
const CLIENT_NAMING_HEADERS = [
  'forwarded',
  'x-forwarded-for', 'x_forwarded_for',
  'x-real-ip', 'x_real_ip',
  'cf-connecting-ip', 'cf_connecting_ip',
  'true-client-ip', 'true_client_ip',
  'x-client-ip', 'x_client_ip',
  'x-cluster-client-ip', 'x_cluster_client_ip',
  'forwarded-for', 'forwarded_for',
];

export function detailAudience(setting: ErrorDetailAudience, networks: OwnNetworks): DetailAudience {
  switch (setting) {
    case 'local-network':
      return (client) => networks.isOwnNetwork(client);
    case 'this-machine':
      return (client) => networks.isThisMachine(client);
    case 'nobody':
      return () => false;
  }
}

/** True when the request names a client other than the one that connected (see CLIENT_NAMING_HEADERS). */
export function namesAnotherClient(headers: IncomingMessage['headers']): boolean {
  for (const name of CLIENT_NAMING_HEADERS) if (headers[name] !== undefined) return true;
  return false;
}

/**
 * Whether `req`, which arrived from `peer`, may see internals (an error's detail, the admin's LAN
 * link). A request that names another client through a peer that is not a trusted proxy came through
 * a tunnel or a proxy Gatehouse was not told about: its socket address (loopback, a LAN router) says
 * nothing about who is really asking, so it is treated as an outside visitor. Behind a trusted proxy
 * the real client it names decides.
 */
export function requestSeesDetails(audience: DetailAudience, req: IncomingMessage, peer: string, trusted: TrustedProxies): boolean {
  if (!trusted.has(peer) && namesAnotherClient(req.headers)) return false;
  return audience(loggedClient(req, peer, trusted));
}
