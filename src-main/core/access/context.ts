// What every access pass is built with: the runtime's shared pieces, handed to each pass factory
// when a route table is provisioned.
import type { AccessSettings } from '../../../shared/access.js';
import type { OwnNetworks } from '../net/own-networks.js';
import type { Reputation } from './reputation.js';

export interface AccessContext {
  /** The access settings in force (lists, providers, CrowdSec, scanner bans). */
  readonly settings: AccessSettings;
  /** This machine's addresses and subnets: "this network". */
  readonly ownNetworks: OwnNetworks;
  /** CrowdSec and scanner bans. */
  readonly reputation: Reputation;
  /** The data directory (users' password hashes, the CrowdSec key). */
  readonly dataDir: string;
}
