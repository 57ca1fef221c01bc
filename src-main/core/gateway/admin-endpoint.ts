// The admin web UI as the rest of Gatehouse sees it: its HTTPS certificate when it listens on the
// LAN (issued by the local CA, kept current by AdminCertificate), and the link the CA onboarding
// page gives a visitor to it. The headless shell tells it where the admin listens; the Electron app
// has no admin port and never does, so the page then shows no link.
import { isIPv6 } from 'node:net';
import type { ListenerInfo } from '../../../shared/status.js';
import { AdminCertificate } from '../certs/admin-certificate.js';
import type { LocalCa } from '../certs/local-ca.js';
import { lanAddresses } from '../net/lan-addresses.js';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** True when only this machine can reach an address: the admin then stays plain HTTP. */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.test(address) || address.toLowerCase() === 'localhost';
}

/** Where the admin listens, and whether it speaks HTTPS there. */
export interface AdminListener extends ListenerInfo {
  https: boolean;
}

export interface AdminEndpointOptions {
  ca: () => LocalCa;
  /** This machine's LAN addresses; default lanAddresses(). */
  addresses?: () => string[];
}

function urlHost(address: string): string {
  return isIPv6(address) ? `[${address}]` : address;
}

export class AdminEndpoint {
  readonly #options: AdminEndpointOptions;
  #certificate: AdminCertificate | null = null;
  #listener: AdminListener | null = null;

  constructor(options: AdminEndpointOptions) {
    this.#options = options;
  }

  /**
   * The admin's certificate for `bindAddress`, issued (or loaded) now and kept current until
   * close(). Rejects when the CA cannot issue it (the message says why).
   */
  async certificate(bindAddress: string): Promise<AdminCertificate> {
    this.#certificate?.close();
    this.#certificate = await AdminCertificate.start({ ca: this.#options.ca, bindAddress, ...(this.#options.addresses ? { addresses: this.#options.addresses } : {}) });
    return this.#certificate;
  }

  /** Where the admin listens now (null: it stopped), for the onboarding page's link. */
  listening(listener: AdminListener | null): void {
    this.#listener = listener;
  }

  /** A change of CA (new domains, new key) reaches the admin's certificate without waiting for its next check. */
  caMaybeChanged(): void {
    void this.#certificate?.check();
  }

  /**
   * The admin's https URL for a visitor who reached this machine as `requestHost` (the Host
   * header), or null when the admin is not on the LAN. A listener on every interface is linked at
   * the address the visitor used when it is one of this machine's, else at the first LAN address.
   */
  linkFor(requestHost: string | undefined): string | null {
    const listener = this.#listener;
    if (!listener?.https) return null;
    let host = listener.address;
    if (host === '0.0.0.0' || host === '::' || host === '::0') {
      const candidates = (this.#options.addresses ?? lanAddresses)().filter((address) => host !== '0.0.0.0' || !isIPv6(address));
      const visited = requestHost?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
      const chosen = candidates.find((address) => address === visited) ?? candidates[0];
      if (chosen === undefined) return null;
      host = chosen;
    }
    return `https://${urlHost(host)}${listener.port === 443 ? '' : `:${listener.port}`}/`;
  }

  close(): void {
    this.#certificate?.close();
    this.#certificate = null;
    this.#listener = null;
  }
}
