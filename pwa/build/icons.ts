/**
 * The app icon, drawn at build time: a woven "W" — two light threads
 * crossing on a dark square. `maskable` keeps the mark inside the safe zone
 * (the centre 80 %) and fills the whole square, as launchers crop it.
 */
import { encodePng } from "./png.ts";

const BACKGROUND = [0x1d, 0x27, 0x3d];
const THREAD = [0xf2, 0xb7, 0x05];
const WEFT = [0xe8, 0xee, 0xf7];

/** Distance from point p to the segment a–b. */
function distance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** The "W": four strokes in unit coordinates (0..1). */
const W: [number, number, number, number][] = [
  [0.2, 0.28, 0.35, 0.72],
  [0.35, 0.72, 0.5, 0.4],
  [0.5, 0.4, 0.65, 0.72],
  [0.65, 0.72, 0.8, 0.28],
];

export function drawIcon(size: number, maskable: boolean): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  const scale = maskable ? 0.7 : 1; // maskable: the mark shrinks into the safe zone
  const radius = maskable ? 0 : 0.18; // rounded corners for the plain icon
  const stroke = 0.075 * scale;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size;
      const v = (y + 0.5) / size;
      // Rounded-square coverage (one pixel of anti-aliasing).
      const cx = Math.max(Math.abs(u - 0.5) - (0.5 - radius), 0);
      const cy = Math.max(Math.abs(v - 0.5) - (0.5 - radius), 0);
      const inside = radius === 0 ? 1 : Math.min(1, Math.max(0, (radius - Math.hypot(cx, cy)) * size + 0.5));
      let color = BACKGROUND;
      let cover = 0;
      // The weft: a horizontal thread behind the W.
      const wu = 0.5 + (u - 0.5) / scale;
      const wv = 0.5 + (v - 0.5) / scale;
      const weft = Math.min(1, Math.max(0, (0.035 - Math.abs(wv - 0.52)) * size * scale + 0.5));
      if (weft > 0 && wu > 0.12 && wu < 0.88) {
        color = mix(BACKGROUND, WEFT, weft);
      }
      for (const [ax, ay, bx, by] of W) {
        const d = distance(wu, wv, ax, ay, bx, by) * scale;
        cover = Math.max(cover, Math.min(1, Math.max(0, (stroke / 2 - d) * size + 0.5)));
      }
      color = mix(color, THREAD, cover);
      const i = (y * size + x) * 4;
      rgba[i] = color[0];
      rgba[i + 1] = color[1];
      rgba[i + 2] = color[2];
      rgba[i + 3] = Math.round(255 * inside);
    }
  }
  return encodePng(size, size, rgba);
}

function mix(a: number[], b: number[], t: number): number[] {
  return a.map((x, i) => Math.round(x + (b[i] - x) * t));
}
