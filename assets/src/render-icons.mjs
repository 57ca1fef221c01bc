#!/usr/bin/env node
// Draws Gatehouse's icons from one description (a gate tower with an arched door on a rounded square) into the SVG source
// and every PNG and ICO the app and its installers use, with nothing but Node: a small supersampling
// rasterizer and a PNG writer. Run it after changing a shape or a color; commit what it writes.
// Usage: node assets/src/render-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const assets = fileURLToPath(new URL('..', import.meta.url));

// --- The drawing, in a 256-unit square -----------------------------------------------------------

const WHITE = [255, 255, 255];
const COLORS = {
  app: [31, 95, 191], // the brand blue
  running: [26, 127, 55], // green
  stopped: [107, 114, 128], // grey
  error: [198, 40, 40], // red
};

const rect = (x0, y0, x1, y1) => ({ kind: 'roundRect', x0, y0, x1, y1, r: 0 });
/** An arch: a rectangle whose top is a half circle. */
const arch = (left, right, springY, bottom) => ({ kind: 'arch', left, right, springY, bottom });
/** Background, tower, three merlons, doorway; later shapes paint over earlier ones. */
const layers = (color) => [
  { shape: { kind: 'roundRect', x0: 16, y0: 16, x1: 240, y1: 240, r: 52 }, color },
  { shape: rect(60, 88, 196, 212), color: WHITE },
  { shape: rect(60, 52, 92, 88), color: WHITE },
  { shape: rect(112, 52, 144, 88), color: WHITE },
  { shape: rect(164, 52, 196, 88), color: WHITE },
  { shape: arch(100, 156, 144, 212), color },
];

function inside(shape, x, y) {
  if (shape.kind === 'roundRect') {
    const { x0, y0, x1, y1, r } = shape;
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    if (r === 0) return true;
    const cx = Math.min(Math.max(x, x0 + r), x1 - r);
    const cy = Math.min(Math.max(y, y0 + r), y1 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  }
  const { left, right, springY, bottom } = shape;
  if (x < left || x > right || y > bottom) return false;
  if (y >= springY) return true;
  const r = (right - left) / 2;
  return (x - (left + r)) ** 2 + (y - springY) ** 2 <= r * r;
}

function svg(color) {
  const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const archPath = ({ left, right, springY, bottom }) => {
    const r = (right - left) / 2;
    return `M${left} ${bottom}V${springY}A${r} ${r} 0 0 1 ${right} ${springY}V${bottom}Z`;
  };
  const element = ({ shape, color: fill }) =>
    shape.kind === 'arch'
      ? `  <path d="${archPath(shape)}" fill="${hex(fill)}"/>`
      : `  <rect x="${shape.x0}" y="${shape.y0}" width="${shape.x1 - shape.x0}" height="${shape.y1 - shape.y0}"${shape.r ? ` rx="${shape.r}"` : ''} fill="${hex(fill)}"/>`;
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256">',
    ...layers(color).map(element),
    '</svg>',
    '',
  ].join('\n');
}

/** RGBA pixels at `size`×`size`, each averaged over 4×4 samples for smooth edges. */
function rasterize(color, size) {
  const pixels = Buffer.alloc(size * size * 4);
  const shapes = layers(color);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = ((px + (sx + 0.5) / n) / size) * 256;
          const y = ((py + (sy + 0.5) / n) / size) * 256;
          let hit = null;
          for (const layer of shapes) if (inside(layer.shape, x, y)) hit = layer.color;
          if (hit) { r += hit[0]; g += hit[1]; b += hit[2]; a += 1; }
        }
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        pixels[i] = Math.round(r / a);
        pixels[i + 1] = Math.round(g / a);
        pixels[i + 2] = Math.round(b / a);
        pixels[i + 3] = Math.round((a / (n * n)) * 255);
      }
    }
  }
  return pixels;
}

// --- PNG and ICO writers -------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(pixels, size) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An ICO holding PNG images (Windows Vista and later read these). */
function ico(images) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, data }) => {
    const entry = Buffer.alloc(16);
    entry[0] = size >= 256 ? 0 : size; // 0 means 256
    entry[1] = size >= 256 ? 0 : size;
    entry.writeUInt16LE(1, 4); // planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(data.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += data.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map((image) => image.data)]);
}

// --- What gets written ---------------------------------------------------------------------------

const written = [];
function write(path, data) {
  writeFileSync(`${assets}${path}`, data);
  written.push(path);
}

write('icon.svg', svg(COLORS.app));

// App icons: a Linux icon set (NxN.png), 512 and 1024 for macOS, an ICO for Windows.
const appPngs = new Map();
for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
  const data = png(rasterize(COLORS.app, size), size);
  appPngs.set(size, data);
  write(`icons/${size}x${size}.png`, data);
}
write('icons/icon.ico', ico([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, data: appPngs.get(size) }))));

// Tray icons, one color per proxy state: NAME.png at 16 px, NAME@2x.png at 32 px for dense screens.
for (const state of ['running', 'stopped', 'error']) {
  write(`tray/${state}.png`, png(rasterize(COLORS[state], 16), 16));
  write(`tray/${state}@2x.png`, png(rasterize(COLORS[state], 32), 32));
}

console.log(`wrote ${written.length} files under assets/: ${written.join(', ')}`);
