// A QrCode (size × size modules, "1" dark) as SVG path data: one square per dark module, offset by
// the quiet zone a scanner needs around the code. Drawn with an SVG path, never as injected markup.
import type { QrCode } from '../../shared/status.js';

/** Light modules every side, as the QR standard asks (4). */
export const QUIET_ZONE = 4;

/** The dark modules' positions (column, row), within the code itself. */
export function darkModules(qr: QrCode): { x: number; y: number }[] {
  const dark: { x: number; y: number }[] = [];
  const count = Math.min(qr.modules.length, qr.size * qr.size);
  for (let index = 0; index < count; index += 1) {
    if (qr.modules[index] === '1') dark.push({ x: index % qr.size, y: Math.floor(index / qr.size) });
  }
  return dark;
}

/** The whole picture's side in modules, quiet zone included: the SVG's viewBox. */
export function qrViewSize(qr: QrCode): number {
  return qr.size + 2 * QUIET_ZONE;
}

/** Path data drawing every dark module as a 1×1 square, shifted by the quiet zone. */
export function qrPath(qr: QrCode): string {
  return darkModules(qr)
    .map(({ x, y }) => `M${x + QUIET_ZONE} ${y + QUIET_ZONE}h1v1h-1z`)
    .join('');
}
