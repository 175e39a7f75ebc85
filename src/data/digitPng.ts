import { decode } from 'fast-png';
import { DataError } from './DataError.js';
import { toMnist } from './preprocess.js';

/**
 * The bytes of a PNG of a handwritten digit, of any size, as the 784 pixels a network trained
 * on MNIST expects (see readDigitPng, which reads the file in Node); errors name `name`.
 * Works in browsers too.
 */
export function decodeDigitPng(bytes: Uint8Array, name = 'the PNG image'): Float32Array {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new DataError(`${name}: not a readable PNG image (${(e as Error).message})`);
  }
  const { width, height, channels, depth } = png;
  if (width * height === 0) throw new DataError(`${name}: the image is empty (${width}×${height})`);
  if (png.palette) throw new DataError(`${name}: indexed-colour PNGs are not supported; save it as greyscale or RGB`);
  const max = 2 ** depth - 1;
  const hasAlpha = channels === 2 || channels === 4;
  const colours = hasAlpha ? channels - 1 : channels;
  const lum = new Float32Array(width * height);
  for (let i = 0; i < lum.length; i++) {
    const p = i * channels;
    const d = png.data;
    const l = colours >= 3 ? (0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2]) / max : d[p] / max;
    const a = hasAlpha ? d[p + colours] / max : 1;
    lum[i] = a * l + (1 - a); // transparent pixels count as white paper
  }
  // The paper is the border's colour: ink is whatever differs from it.
  let border = 0;
  let n = 0;
  for (let x = 0; x < width; x++) (border += lum[x] + lum[(height - 1) * width + x]), (n += 2);
  for (let y = 0; y < height; y++) (border += lum[y * width] + lum[y * width + width - 1]), (n += 2);
  const darkInk = border / n >= 0.5;
  const ink = lum.map((v) => (darkInk ? 1 - v : v));
  const pixels = toMnist(ink, width, height);
  if (!pixels) throw new DataError(`${name}: no digit found (the image is blank)`);
  return pixels;
}
