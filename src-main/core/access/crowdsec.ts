// STUB (foundation): the CrowdSec bouncer. Replaced by the CrowdSec work.
import type { AccessSettings, CrowdsecStatus } from '../../../shared/access.js';
import type { AccessContext } from './context.js';
import type { BanSource } from './reputation.js';

export class CrowdsecBouncer implements BanSource {
  readonly source = 'crowdsec' as const;
  private settings: AccessSettings['crowdsec'] | null = null;
  constructor(
    private readonly context: () => AccessContext,
    /** Told when the state or the ban count changed. */
    private readonly onChange: () => void,
  ) {}
  /** Reads the bouncer key from the data directory. */
  async load(): Promise<void> {
    void this.context;
    void this.onChange;
  }
  apply(settings: AccessSettings): void {
    this.settings = settings.crowdsec;
  }
  banned(_address: string): { reason: string; until: number | null } | null {
    return null;
  }
  /** Sets the bouncer key ("" removes it); stored with mode 0600, never returned. */
  async setApiKey(_key: string): Promise<void> {}
  status(): CrowdsecStatus {
    const settings = this.settings ?? { enabled: false, url: 'http://127.0.0.1:8080', pullSeconds: 10, applyToLan: false };
    return { settings, apiKeySet: false, state: 'off', problem: null, lastPullAt: null, bans: 0 };
  }
  close(): void {}
}
