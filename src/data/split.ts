import type { ImageSet } from './idx.js';
import { Random } from '../random.js';

/** Split an image set by a seeded permutation: the first `trainSize` rows train, the rest test. */
export function splitImageSet(set: ImageSet, trainSize: number, seed: number): { train: ImageSet; test: ImageSet } {
  if (!(Number.isInteger(trainSize) && trainSize > 0 && trainSize < set.count)) {
    throw new RangeError(`split: trainSize must be a whole number in 1..${set.count - 1}, got ${trainSize}`);
  }
  const order = new Random(seed).permutation(set.count);
  return { train: subset(set, order.subarray(0, trainSize)), test: subset(set, order.subarray(trainSize)) };
}

/** The images and labels at the given indices, copied. */
export function subset(set: ImageSet, index: ArrayLike<number>): ImageSet {
  const size = set.rows * set.cols;
  const images = new Uint8Array(index.length * size);
  const labels = new Uint8Array(index.length);
  for (let i = 0; i < index.length; i++) {
    images.set(set.images.subarray(index[i] * size, (index[i] + 1) * size), i * size);
    labels[i] = set.labels[index[i]];
  }
  return { images, labels, count: index.length, rows: set.rows, cols: set.cols };
}
