// The QR code the app shows so a phone can open the onboarding page without typing its address.
// The code is handed over as plain modules (QrCode in shared/status.ts) and drawn by the renderer,
// so no image format or canvas is needed on this side.
import qrcode from 'qrcode-generator';
import type { QrCode } from '../../../shared/status.js';

/**
 * Error correction M (about 15% of the code may be unreadable): enough for a phone held at an
 * angle to a laptop screen, while a LAN address stays at a small, easily scanned version.
 */
const ERROR_CORRECTION = 'M';

/** Version 0 asks the library for the smallest version that holds the text. */
const SMALLEST_VERSION = 0;

/** `text` as a QR code in byte mode, UTF-8 encoded, with error correction M. */
export function qrCode(text: string): QrCode {
  const code = qrcode(SMALLEST_VERSION, ERROR_CORRECTION);
  // The library's byte mode takes one character per byte (it keeps only the low 8 bits), so a
  // name with non-ASCII letters is passed as its UTF-8 bytes, which is what scanners decode.
  code.addData(Buffer.from(text, 'utf8').toString('latin1'), 'Byte');
  code.make();
  const size = code.getModuleCount();
  let modules = '';
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) modules += code.isDark(row, column) ? '1' : '0';
  }
  return { size, modules };
}
