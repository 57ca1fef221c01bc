// The Access overview (lists, users, providers, CrowdSec, bans), read once and kept live by the
// `access` event. The event leaves "your address" null (each caller has its own), so the caller's
// address is kept from the last getAccess answer rather than from the event.
import type { AccessOverview } from '../../shared/access.js';
import type { ApiClient } from '../../shared/api.js';
import { LiveOverview } from '../app/live-overview.svelte.js';

export interface YourAddress {
  /** Null in the desktop window: the caller is this computer. */
  address: string | null;
  isLan: boolean | null;
}

export class AccessFeed extends LiveOverview<AccessOverview> {
  /** The caller's address as getAccess last said it; null until the first answer. */
  you = $state.raw<YourAddress | null>(null);

  constructor(api: Pick<ApiClient, 'getAccess' | 'on'>) {
    super(
      (apply) => api.on('access', apply),
      async () => {
        const overview = await api.getAccess();
        this.you = { address: overview.yourAddress, isLan: overview.yourAddressIsLan };
        return overview;
      },
    );
  }

  /** The name of a list, for the route form and the lists that use it; the id when it is gone. */
  listName(id: string): string {
    return this.overview?.lists.find((list) => list.id === id)?.name ?? id;
  }
}
