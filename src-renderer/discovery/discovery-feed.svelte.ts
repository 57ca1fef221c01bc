// The discovery overview (services seen on the LAN, names published there), read once and kept live
// by the `discovery` event (see LiveOverview). Used by the Discovery page, the route form (the live
// state of the route's own names) and the dashboard (a small "published" marker per name).
import type { ApiClient } from '../../shared/api.js';
import type { DiscoveryOverview, PublishedName } from '../../shared/status.js';
import { LiveOverview } from '../app/live-overview.svelte.js';

export class DiscoveryFeed extends LiveOverview<DiscoveryOverview> {
  /** Each route's published names, by route id. */
  publishedByRoute = $derived.by(() => {
    const byRoute = new Map<string, PublishedName[]>();
    for (const entry of this.overview?.published ?? []) byRoute.set(entry.routeId, [...(byRoute.get(entry.routeId) ?? []), entry]);
    return byRoute;
  });

  constructor(api: Pick<ApiClient, 'getDiscovery' | 'on'>) {
    super((apply) => api.on('discovery', apply), () => api.getDiscovery());
  }
}
