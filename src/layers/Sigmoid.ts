import type { Tensor } from '../tensor/Tensor.js';
import { sigmoid, sigmoidBackward } from '../tensor/ops.js';
import type { Layer } from './Layer.js';

/**
 * Sigmoid: y = 1 / (1 + exp(−x)). Backward: dx = dout · y · (1 − y), from the kept output.
 *
 * @example
 * const s = new Sigmoid();
 * s.forward(Tensor.from([0]));   // [0.5]
 * s.backward(Tensor.from([1]));  // [0.25]
 */
export class Sigmoid implements Layer {
  /** The output y of the last forward pass. */
  out: Tensor | null = null;
  private dx: Tensor | null = null;

  /** y = 1 / (1 + exp(−x)). */
  forward(x: Tensor): Tensor {
    this.out = sigmoid(x, this.out);
    return this.out;
  }

  /** dx = dout · y · (1 − y). */
  backward(dout: Tensor): Tensor {
    if (!this.out) throw new Error('Sigmoid: backward called before forward');
    this.dx = sigmoidBackward(dout, this.out, this.dx); // dx = dout · y · (1 − y)
    return this.dx;
  }
}
