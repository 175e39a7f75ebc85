import type { Tensor } from '../tensor/Tensor.js';
import { relu, reluBackward } from '../tensor/ops.js';
import type { Layer } from './Layer.js';

/**
 * ReLU: y = x if x > 0, else 0. Backward passes dout where x > 0 and 0 elsewhere.
 *
 * The book keeps `mask = (x <= 0)`; we keep the output instead, which is ≤ 0 exactly where
 * the mask is true (an input of exactly 0 gets gradient 0, as in the book).
 *
 * @example
 * const relu = new Relu();
 * relu.forward(Tensor.from([[1, -0.5], [-2, 3]]));  // [[1, 0], [0, 3]]
 * relu.backward(Tensor.from([[5, 5], [5, 5]]));     // [[5, 0], [0, 5]]
 */
export class Relu implements Layer {
  /** The output of the last forward pass (≤ 0 exactly where the book's mask is true). */
  out: Tensor | null = null;
  private dx: Tensor | null = null;

  /** y = max(x, 0). */
  forward(x: Tensor): Tensor {
    this.out = relu(x, this.out);
    return this.out;
  }

  /** dx = dout where x > 0, else 0. */
  backward(dout: Tensor): Tensor {
    if (!this.out) throw new Error('Relu: backward called before forward');
    this.dx = reluBackward(dout, this.out, this.dx); // dx = dout · [x > 0]
    return this.dx;
  }
}
