/**
 * The digits file: the bundled MNIST digits as raw bytes (gzipped: generated/digits.bin.gz,
 * written by scripts/build-digits.mjs), read by loadBundledDigits in Node and fetched by the
 * playground's training worker as digits.bin.
 *
 * Layout (little-endian):
 * ```
 * byte 0-3   'BPD1'            magic and version
 * byte 4-7   count (uint32)    number of images
 * byte 8     rows (uint8)      28
 * byte 9     cols (uint8)      28
 * byte 10-11 0                 reserved
 * byte 12…   count·rows·cols   pixels, uint8 0..255, row-major, image after image
 * then       count             labels, uint8 0..9
 * ```
 * Pure code: runs in Node and in the browser.
 */
import type { ImageSet } from './idx.js';

const MAGIC = [0x42, 0x50, 0x44, 0x31]; // 'BPD1'
const HEADER_BYTES = 12;

/** Encodes an image set as a digits file. */
export function encodeDigits(set: ImageSet): Uint8Array {
  const pixels = set.count * set.rows * set.cols;
  if (set.images.length !== pixels || set.labels.length !== set.count) {
    throw new RangeError(`encodeDigits: ${set.count} images of ${set.rows}×${set.cols} need ${pixels} pixels and ${set.count} labels, got ${set.images.length} and ${set.labels.length}`);
  }
  if (set.rows > 255 || set.cols > 255) throw new RangeError(`encodeDigits: images of ${set.rows}×${set.cols} are too large (at most 255×255)`);
  const bytes = new Uint8Array(HEADER_BYTES + pixels + set.count);
  bytes.set(MAGIC, 0);
  new DataView(bytes.buffer).setUint32(4, set.count, true);
  bytes[8] = set.rows;
  bytes[9] = set.cols;
  bytes.set(set.images, HEADER_BYTES);
  bytes.set(set.labels, HEADER_BYTES + pixels);
  return bytes;
}

/**
 * Decodes a digits file (views on `bytes`, no copy).
 * @throws Error naming what is wrong, for a file that is not a digits file or is truncated.
 */
export function decodeDigits(bytes: Uint8Array, name = 'digits file'): ImageSet {
  if (bytes.length < HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${name}: not a playground digits file (expected the magic bytes 'BPD1'); rebuild it with npm run build:digits`);
  }
  const count = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  const rows = bytes[8], cols = bytes[9];
  const pixels = count * rows * cols;
  if (bytes.length !== HEADER_BYTES + pixels + count) {
    throw new Error(`${name}: ${count} images of ${rows}×${cols} need ${HEADER_BYTES + pixels + count} bytes, the file has ${bytes.length}`);
  }
  return {
    images: bytes.subarray(HEADER_BYTES, HEADER_BYTES + pixels),
    labels: bytes.subarray(HEADER_BYTES + pixels),
    count, rows, cols,
  };
}
