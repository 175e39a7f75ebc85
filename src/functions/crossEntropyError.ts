import type { Tensor } from '../tensor/Tensor.js';
import { crossEntropyLabels } from '../tensor/ops.js';
import { toLabels, type Targets } from './targets.js';

/**
 * E = −(1/N) Σ_n log(y[n, t_n] + 1e-7): the mean cross-entropy of probabilities `y` against
 * targets given as one-hot rows or label indices. The 1e-7 is the book's guard against log(0)
 * (at y = 0 the loss is −log(1e-7) ≈ 16.118). A 1-D `y` is a batch of one.
 *
 * @example crossEntropyError(Tensor.from([0.1, 0.05, 0.6, 0, 0.05, 0.1, 0, 0.1, 0, 0]), 2) // 0.5108
 */
export function crossEntropyError(y: Tensor, t: Targets): number {
  const y2 = y.ndim === 1 ? y.reshape([1, y.size]) : y;
  const labels = toLabels(t, y2.shape[0], y2.shape[1], 'crossEntropyError');
  return crossEntropyLabels(y2, labels);
}
