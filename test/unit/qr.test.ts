// The QR code for the onboarding address. No decoder is available offline, so the code's structure
// is checked against the QR specification instead: the size of the smallest version that holds the
// text at error correction M, the three finder patterns with their light separators, the timing
// patterns between them, and that different texts give different codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { qrCode } from '../../src-main/core/certs/qr.js';
import type { QrCode } from '../../shared/status.js';

/** Byte-mode capacity at error correction M for versions 1 to 10 (ISO/IEC 18004, table 7). */
const BYTE_CAPACITY_M = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213];

function expectedSize(text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  const version = BYTE_CAPACITY_M.findIndex((capacity) => bytes <= capacity) + 1;
  assert.ok(version > 0, 'test texts stay within version 10');
  return 17 + 4 * version;
}

const dark = (code: QrCode, row: number, column: number) => code.modules[row * code.size + column] === '1';

/** The 7×7 finder at (top, left): dark ring, light ring, dark 3×3 centre. */
function assertFinder(code: QrCode, top: number, left: number, where: string) {
  for (let r = 0; r < 7; r++) {
    for (let c = 0; c < 7; c++) {
      const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
      assert.equal(dark(code, top + r, left + c), ring !== 2, `${where} finder module (${r}, ${c})`);
    }
  }
}

/** The light separator around a finder, on the sides that face the symbol. */
function assertSeparator(code: QrCode, row: number, column: number, rowStep: 0 | 1, columnStep: 0 | 1, where: string) {
  for (let i = 0; i < 8; i++) assert.equal(dark(code, row + i * rowStep, column + i * columnStep), false, `${where} separator ${i}`);
}

const TEXTS = [
  'http://192.168.1.20/ca',
  'http://gatehouse.local:8080/ca',
  'http://[fd00:1234:5678:9abc:def0:1234:5678:9abc]:8080/ca',
  'http://gatehouse-very-long-host-name-for-the-living-room.home.arpa:8080/ca',
  'http://maison-élodie.home.arpa/ca',
];

for (const text of TEXTS) {
  test(`"${text}": the smallest version at M, three finders, separators, timing`, () => {
    const code = qrCode(text);
    const size = code.size;
    assert.equal(size, expectedSize(text));
    assert.equal(code.modules.length, size * size);
    assert.match(code.modules, /^[01]+$/);
    assertFinder(code, 0, 0, 'top-left');
    assertFinder(code, 0, size - 7, 'top-right');
    assertFinder(code, size - 7, 0, 'bottom-left');
    assert.throws(() => assertFinder(code, size - 7, size - 7, 'bottom-right'), 'no finder bottom-right');
    assertSeparator(code, 7, 0, 0, 1, 'top-left, below');
    assertSeparator(code, 0, 7, 1, 0, 'top-left, right');
    assertSeparator(code, 7, size - 8, 0, 1, 'top-right, below');
    assertSeparator(code, 0, size - 8, 1, 0, 'top-right, left');
    assertSeparator(code, size - 8, 0, 0, 1, 'bottom-left, above');
    for (let i = 8; i < size - 8; i++) {
      assert.equal(dark(code, 6, i), i % 2 === 0, `horizontal timing module ${i}`);
      assert.equal(dark(code, i, 6), i % 2 === 0, `vertical timing module ${i}`);
    }
    // The dark module every symbol has beside the bottom-left finder.
    assert.equal(dark(code, size - 8, 8), true);
  });
}

test('different texts give different codes; the same text the same code', () => {
  const codes = TEXTS.map((text) => qrCode(text).modules);
  assert.equal(new Set(codes).size, TEXTS.length);
  const a = qrCode('http://192.168.1.20/ca');
  const b = qrCode('http://192.168.1.21/ca');
  assert.equal(a.size, b.size, 'same version');
  assert.notEqual(a.modules, b.modules, 'one changed character changes the code');
  assert.deepEqual(qrCode('http://192.168.1.20/ca'), a);
});

test('non-ASCII text is encoded as UTF-8 bytes: a one-letter change of accent changes the code', () => {
  assert.notEqual(qrCode('http://é.home.arpa/ca').modules, qrCode('http://è.home.arpa/ca').modules);
  // Latin-1 truncation would map U+0169 (ũ) and U+0069 (i) to the same byte.
  assert.notEqual(qrCode('http://ũ.home.arpa/ca').modules, qrCode('http://i.home.arpa/ca').modules);
});
