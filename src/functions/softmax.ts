import type { Tensor } from '../tensor/Tensor.js';
import { softmaxRows } from '../tensor/ops.js';

/**
 * softmax(a)_k = exp(a_k − max a) / Σ_i exp(a_i − max a), over each row of a 2-D tensor
 * (or over a 1-D tensor). Subtracting the max changes nothing mathematically and keeps exp
 * from overflowing.
 *
 * @example softmax(Tensor.from([1010, 1000, 990])) // [0.99995460, 4.5398e-5, 2.0611e-9]
 */
export function softmax(x: Tensor): Tensor {
  return softmaxRows(x);
}
