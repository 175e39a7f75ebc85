import { decode } from 'fast-png';
import { Unzlib } from 'fflate';
import { DataError } from './DataError.js';
import { toMnist } from './preprocess.js';

/**
 * The bytes of a PNG of a handwritten digit, of any size, as the 784 pixels a network trained
 * on MNIST expects (see readDigitPng, which reads the file in Node); errors name `name`.
 * Works in browsers too. The file is checked chunk by chunk (CRCs, sizes, image data that
 * inflates to exactly what the header declares) before anything as large as the image is
 * allocated.
 */
export function decodeDigitPng(bytes: Uint8Array, name = 'the PNG image'): Float32Array {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(imageChunks(bytes, name), { checkCrc: true });
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${name}: not a readable PNG image (${(e as Error).message})`);
  }
  const { width, height, channels, depth } = png;
  if (png.palette) throw new DataError(`${name}: indexed-colour PNGs are not supported; save it as greyscale or RGB`);
  const max = 2 ** depth - 1;
  const hasAlpha = channels === 2 || channels === 4;
  const colours = hasAlpha ? channels - 1 : channels;
  // 1, 2 and 4-bit greys come packed, several samples to a byte, each row starting on a byte
  const d = depth < 8 ? unpackSamples(png.data as Uint8Array, width, height, depth) : png.data;
  const lum = new Float32Array(width * height);
  for (let i = 0; i < lum.length; i++) {
    const p = i * channels;
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

/** Most pixels a digit image may have (a 33-megapixel photo); a larger one is refused before decoding. */
const MAX_PIXELS = 2 ** 25;
/** The chunks that make the pixels; the others (text, colour profile, ...) are left out before decoding. */
const IMAGE_CHUNKS = new Set(['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND']);
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel of each PNG colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * The PNG with only the chunks that make its pixels, once its image data is known to inflate to
 * exactly the size its header declares. fast-png allocates whatever the header declares and
 * inflates every compressed chunk whole, so a small corrupt or hostile file (huge dimensions,
 * a decompression bomb in an image or colour-profile chunk) would otherwise cost gigabytes.
 */
function imageChunks(bytes: Uint8Array, name: string): Uint8Array {
  const bad = (why: string): DataError => new DataError(`${name}: not a readable PNG image (${why})`);
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw bad('no PNG signature at byte 0');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  const idat: Uint8Array[] = [];
  for (let pos = 8, type = ''; type !== 'IEND';) {
    if (pos + 12 > bytes.length) throw bad(`the file ends at byte ${bytes.length}, before the IEND chunk (truncated?)`);
    const length = view.getUint32(pos);
    type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const end = pos + 12 + length;
    if (end > bytes.length) throw bad(`the ${type} chunk at byte ${pos} runs past the end of the file (truncated?)`);
    if (pos === 8 && (type !== 'IHDR' || length !== 13)) throw bad('it does not start with an IHDR chunk');
    if (IMAGE_CHUNKS.has(type)) kept.push(bytes.subarray(pos, end));
    if (type === 'IDAT') idat.push(bytes.subarray(pos + 8, end - 4));
    pos = end;
  }
  const width = view.getUint32(16), height = view.getUint32(20), depth = bytes[24], channels = CHANNELS[bytes[25]];
  if (width === 0 || height === 0) throw new DataError(`${name}: the image is empty (${width}×${height})`);
  if (width * height > MAX_PIXELS) throw new DataError(`${name}: the image is ${width}×${height}, more than the ${MAX_PIXELS} pixels a digit image may have; scale it down`);
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) throw bad(`colour type ${bytes[25]} with bit depth ${depth} at byte 24`);
  // fast-png 8 reads the packed rows of an interlaced 1, 2 or 4-bit image as one sample per byte: garbage, silently
  if (bytes[28] === 1 && depth < 8) throw new DataError(`${name}: interlaced PNGs of ${depth}-bit samples are not supported; save it without interlacing, or as 8-bit`);
  const needed = imageDataBytes(width, height, channels * depth, bytes[28] === 1);
  // inflate as a stream, counting, and stop at the first byte past what the header declares
  let inflatedBytes = 0;
  const tooMuch = new Error('too much');
  const inflater = new Unzlib((chunk) => {
    inflatedBytes += chunk.length;
    if (inflatedBytes > needed) throw tooMuch;
  });
  try {
    idat.forEach((part, i) => inflater.push(part, i === idat.length - 1));
  } catch (e) {
    throw bad(e === tooMuch ? `its image data inflates to more than the ${needed} bytes a ${width}×${height} image needs` : `corrupt image data: ${(e as Error).message}`);
  }
  if (inflatedBytes < needed) throw bad(`its image data inflates to ${inflatedBytes} of the ${needed} bytes a ${width}×${height} image needs (truncated?)`);
  return concat(kept);
}

/** The parts one after another. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** Bytes of filtered image data (a filter byte, then the packed samples, per row) of a PNG; Adam7 interlacing stores 7 reduced images. */
function imageDataBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number): number => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!interlaced) return rows(width, height);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  return passes.reduce((n, [x0, y0, dx, dy]) => n + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0);
}

/** One byte per sample from rows of 1, 2 or 4-bit samples packed big-endian, each row padded to a byte. */
function unpackSamples(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = 2 ** depth - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (packed[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}
