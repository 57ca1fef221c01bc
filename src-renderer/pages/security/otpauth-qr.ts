// The QR code of an otpauth:// URI, drawn by the same QrCodeImage as the CA onboarding code. Encoded
// here in the page rather than by Gatehouse: the secret is already in the answer (for typing by
// hand), and the sign-in contract stays free of drawing concerns.
import qrcode from 'qrcode-generator';
import type { QrCode } from '../../../shared/status.js';

/** `text` as a QR code in byte mode (UTF-8), error correction M, the smallest version that fits. */
export function qrCodeOf(text: string): QrCode {
  const code = qrcode(0, 'M');
  // The library's byte mode keeps one byte per character: hand it the UTF-8 bytes as characters.
  code.addData(String.fromCharCode(...new TextEncoder().encode(text)), 'Byte');
  code.make();
  const size = code.getModuleCount();
  let modules = '';
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) modules += code.isDark(row, column) ? '1' : '0';
  }
  return { size, modules };
}

/** "JBSW Y3DP EHPK 3PXP": the base32 secret in groups of four, easier to type without losing the place. */
export function groupedSecret(secret: string): string {
  return secret.replace(/\s+/g, '').match(/.{1,4}/g)?.join(' ') ?? '';
}
