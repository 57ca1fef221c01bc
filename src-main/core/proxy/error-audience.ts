// Who may see a failure's detail on Gatehouse's own error page (proxy.errorDetails), provisioned
// once per settings change. The client is the one the request path already decided on: the socket's
// peer, or the real client behind a trusted proxy, so a proxy in front of Gatehouse never makes
// every visitor look local.
import type { ErrorDetailAudience } from '../../../shared/model.js';
import type { OwnNetworks } from '../net/own-networks.js';

export type DetailAudience = (client: string) => boolean;

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
