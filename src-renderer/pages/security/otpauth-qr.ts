// The enrolment key as people type it. The QR code of the otpauth:// URI comes with the enrolment
// (TotpEnrolment.qr), encoded by Gatehouse like the CA onboarding code, so the page carries no encoder.

/** "JBSW Y3DP EHPK 3PXP": the base32 secret in groups of four, easier to type without losing the place. */
export function groupedSecret(secret: string): string {
  return secret.replace(/\s+/g, '').match(/.{1,4}/g)?.join(' ') ?? '';
}
