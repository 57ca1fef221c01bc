// The Sign-in & security page's steps that span more than one request: turning on two-factor
// sign-in (a secret to scan, then a code to prove it, then the recovery codes shown once) and the
// new API token (shown once). Written against the AuthClient so they are tested under Node.
import type { TotpEnrolment } from '../../../shared/admin-auth.js';
import type { QrCode } from '../../../shared/status.js';
import { TotpCodeForm } from '../../sign-in/password-forms.svelte.js';
import type { Session } from '../../sign-in/session.svelte.js';

export type EnrolmentStep = 'idle' | 'scan' | 'codes';

export class TotpEnrolmentFlow {
  step = $state<EnrolmentStep>('idle');
  enrolment = $state.raw<TotpEnrolment | null>(null);
  qr = $derived<QrCode | null>(this.enrolment?.qr ?? null);
  /** The recovery codes, while they are shown (once, right after turning the second factor on). */
  recoveryCodes = $state.raw<string[]>([]);
  /** A new one for each enrolment, so no message from an earlier try shows. */
  codeForm = $state.raw(new TotpCodeForm());

  readonly #session: Session;

  constructor(session: Session) {
    this.#session = session;
  }

  /**
   * Asks Gatehouse for a new secret, which needs the password (the dialog that asked for it shows a
   * refusal, so this throws); nothing changes until a code confirms it.
   */
  async begin(input: { password: string }): Promise<void> {
    this.enrolment = await this.#session.auth.beginTotp(input);
    this.codeForm = new TotpCodeForm();
    this.step = 'scan';
  }

  /** True once the code was right: the second factor is on and the recovery codes are showing. */
  async confirm(): Promise<boolean> {
    const confirmed = await this.codeForm.submit((input) => this.#session.auth.confirmTotp(input));
    if (!confirmed) return false;
    this.recoveryCodes = confirmed.recoveryCodes;
    this.enrolment = null;
    this.step = 'codes';
    this.#session.signedIn(confirmed.state);
    return true;
  }

  /** The person has the codes (or gave up on the scan): back to the section's summary. */
  finish(): void {
    this.step = 'idle';
    this.enrolment = null;
    this.recoveryCodes = [];
  }
}

/** Recovery codes as the text file "Download" saves: one per line, with what they are for. */
export function recoveryCodesText(codes: readonly string[], host: string): string {
  return [
    `Gatehouse recovery codes for ${host}`,
    'Each code signs in once in place of the 6-digit code from your authenticator app.',
    '',
    ...codes,
    '',
  ].join('\n');
}
