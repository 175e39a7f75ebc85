import type { Tensor } from '../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';

/**
 * Targets of a classification loss: one-hot rows (a tensor shaped like the scores), or label
 * indices (one whole number per row).
 */
export type Targets = Tensor | Int32Array | Uint8Array | readonly number[] | number;

/**
 * Label indices for a batch of `rows` scores over `cols` classes, from one-hot rows or labels.
 * One-hot rows must hold exactly one 1 and zeros elsewhere; labels must lie in 0..cols−1.
 * `who` names the caller in error messages.
 */
export function toLabels(t: Targets, rows: number, cols: number, who: string, out?: Int32Array): Int32Array {
  const labels = out && out.length === rows ? out : new Int32Array(rows);
  if (typeof t === 'number') t = [t];
  if (!isTensor(t)) {
    if (t.length !== rows) throw new ShapeError(`${who}: ${t.length} labels for a batch of ${rows}`);
    for (let i = 0; i < rows; i++) {
      const v = t[i];
      if (!(Number.isInteger(v) && v >= 0 && v < cols)) {
        throw new RangeError(`${who}: label ${v} at row ${i} is outside 0..${cols - 1}`);
      }
      labels[i] = v;
    }
    return labels;
  }
  if (t.size !== rows * cols) {
    throw new ShapeError(`${who}: one-hot targets of shape ${fmtShape(t.shape)} do not match ${rows} rows of ${cols} classes`);
  }
  const d = t.data;
  for (let i = 0; i < rows; i++) {
    let hot = -1;
    for (let j = 0; j < cols; j++) {
      const v = d[i * cols + j];
      if (v === 1 && hot < 0) hot = j;
      else if (v !== 0) {
        throw new RangeError(`${who}: target row ${i} is not one-hot (value ${v} at column ${j}); pass label indices or rows of one 1 and zeros`);
      }
    }
    if (hot < 0) throw new RangeError(`${who}: target row ${i} is all zeros, not one-hot`);
    labels[i] = hot;
  }
  return labels;
}

function isTensor(t: unknown): t is Tensor {
  return typeof t === 'object' && t !== null && 'shape' in t && 'storage' in t;
}
