// The certificates overview (the CA, every route's certificate, the imported ones), read once and
// kept live by the `certificates` event. Each page that shows certificates makes its own and connects
// it in an $effect, so nothing listens while no such page is shown.
import type { ApiClient, ApiError } from '../../shared/api.js';
import type { CertificatesOverview, RouteCertificate } from '../../shared/status.js';
import { asApiError } from '../app/errors.js';

export class CertificatesFeed {
  /** Null until the first answer. */
  overview = $state.raw<CertificatesOverview | null>(null);
  /** Why the overview could not be read; null once it was. */
  error = $state.raw<ApiError | null>(null);

  byRoute = $derived(new Map<string, RouteCertificate>((this.overview?.routes ?? []).map((cert) => [cert.routeId, cert])));

  readonly #api: Pick<ApiClient, 'getCertificates' | 'on'>;
  #events = 0;

  constructor(api: Pick<ApiClient, 'getCertificates' | 'on'>) {
    this.#api = api;
  }

  /** Listens for changes and reads the overview; returns the function that stops listening. */
  connect(): () => void {
    const stop = this.#api.on('certificates', (overview) => this.update(overview));
    void this.reload();
    return stop;
  }

  /** A newer overview (from the event, or from an action's answer). */
  update(overview: CertificatesOverview): void {
    this.#events += 1;
    this.overview = overview;
    this.error = null;
  }

  async reload(): Promise<void> {
    const before = this.#events;
    try {
      const overview = await this.#api.getCertificates();
      // An event that arrived while reading carries newer data than this answer.
      if (this.#events === before) this.overview = overview;
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    }
  }
}
