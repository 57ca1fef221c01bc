// The certificates overview (the CA, every route's certificate, the imported ones), read once and
// kept live by the `certificates` event (see LiveOverview).
import type { ApiClient } from '../../shared/api.js';
import type { CertificatesOverview, RouteCertificate } from '../../shared/status.js';
import { LiveOverview } from '../app/live-overview.svelte.js';

export class CertificatesFeed extends LiveOverview<CertificatesOverview> {
  byRoute = $derived(new Map<string, RouteCertificate>((this.overview?.routes ?? []).map((cert) => [cert.routeId, cert])));

  constructor(api: Pick<ApiClient, 'getCertificates' | 'on'>) {
    super((apply) => api.on('certificates', apply), () => api.getCertificates());
  }
}
