import type { Backend, DType } from '../kernels/Backend.js';
import { Tensor } from '../tensor/Tensor.js';
import type { ImageSet } from './idx.js';

/** Inputs and targets ready for a network: x is (N, rows·cols), pixels in [0, 1]. */
export interface LabeledData {
  /** The inputs, (N, rows·cols), pixels in [0, 1]. */
  x: Tensor;
  /** Class indices, one per row. */
  labels: Int32Array;
}

/**
 * Images as a (N, 784) tensor of pixels scaled to [0, 1] (the book's `normalize=True,
 * flatten=True`), with the labels as indices. Use `oneHot` for one-hot targets.
 */
export function toLabeledData(set: ImageSet, options: { dtype?: DType; backend?: Backend } = {}): LabeledData {
  const x = Tensor.empty([set.count, set.rows * set.cols], options); // every element written below
  const d = x.data;
  const images = set.images;
  for (let i = 0; i < images.length; i++) d[i] = images[i] / 255;
  return { x, labels: Int32Array.from(set.labels) };
}

/** One-hot rows (the book's `one_hot_label=True`): row i has a 1 at column labels[i]. */
export function oneHot(labels: ArrayLike<number>, classes = 10, options: { dtype?: DType; backend?: Backend } = {}): Tensor {
  const t = Tensor.zeros([labels.length, classes], options);
  const d = t.data;
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (!(Number.isInteger(k) && k >= 0 && k < classes)) throw new RangeError(`oneHot: label ${k} at row ${i} is outside 0..${classes - 1}`);
    d[i * classes + k] = 1;
  }
  return t;
}
