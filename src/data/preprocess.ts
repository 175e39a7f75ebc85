/**
 * A drawing made on the page, turned into an image like MNIST's: greyscale 0..1 (1 = ink),
 * 28×28, the digit scaled to fit a 20×20 box (keeping its aspect ratio) and placed so that
 * its centre of mass is at the centre of the 28×28 field, as LeCun et al. prepared MNIST.
 * Pure code, tested in Node.
 */

/** MNIST's image side and the side of the box the digit is scaled into. */
export const SIDE = 28;
export const BOX = 20;
/** Ink below this (of 1) does not count towards the bounding box: anti-aliasing fringes. */
const INK_THRESHOLD = 0.1;

/**
 * Converts `ink` (width × height values in 0..1, row-major, 1 = full ink) into 784 pixels.
 * Returns null for an empty drawing.
 *
 * @example
 * const pixels = toMnist(inkFromCanvas(ctx), 280, 280); // Float32Array(784) or null
 */
export function toMnist(ink: ArrayLike<number>, width: number, height: number): Float32Array | null {
  // 1. the bounding box of the ink
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > INK_THRESHOLD) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1, h = y1 - y0 + 1;

  // 2. scale the box so its longer side is 20 px, averaging n×n samples per target pixel
  const scale = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * scale)), th = Math.max(1, Math.round(h * scale));
  const n = Math.max(1, Math.ceil(1 / scale));
  const box = new Float32Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const sy = Math.min(y1, y0 + Math.floor((ty + (j + 0.5) / n) / scale));
        for (let i = 0; i < n; i++) {
          const sx = Math.min(x1, x0 + Math.floor((tx + (i + 0.5) / n) / scale));
          sum += ink[sy * width + sx];
        }
      }
      box[ty * tw + tx] = Math.min(1, sum / (n * n));
    }
  }

  // 3. shift it so its centre of mass lands on the centre of the field
  const com = centreOfMass(box, tw, th);
  if (!com) return null;
  const [cx, cy] = com;
  const centre = (SIDE - 1) / 2;
  const ox = Math.round(centre - cx), oy = Math.round(centre - cy);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < th; y++) {
    const Y = y + oy;
    if (Y < 0 || Y >= SIDE) continue;
    for (let x = 0; x < tw; x++) {
      const X = x + ox;
      if (X >= 0 && X < SIDE) out[Y * SIDE + X] = box[y * tw + x];
    }
  }
  return out;
}

/** The centre of mass (x, y) of an image, in pixel coordinates; null if it is blank. */
export function centreOfMass(pixels: ArrayLike<number>, width = SIDE, height = width): [number, number] | null {
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  return mass > 0 ? [mx / mass, my / mass] : null;
}

/**
 * Ink from RGBA canvas pixels drawn dark on white: 1 − luminance, so black is 1 and the
 * white (or transparent) paper 0.
 */
export function inkFromRgba(rgba: Uint8ClampedArray): Float32Array {
  const ink = new Float32Array(rgba.length / 4);
  for (let i = 0; i < ink.length; i++) {
    const a = rgba[4 * i + 3] / 255;
    const lum = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
    ink[i] = a * (1 - lum); // transparent counts as paper
  }
  return ink;
}
