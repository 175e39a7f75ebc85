import type { Tensor } from '../tensor/Tensor.js';
import { tanh, tanhBackward } from '../tensor/elementwise.js';
import type { Layer } from './Layer.js';

/**
 * Tanh: y = tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ). Backward: dx = dout · (1 − y²), from the kept output.
 *
 * @example
 * const t = new Tanh();
 * t.forward(Tensor.from([0]));   // [0]
 * t.backward(Tensor.from([1]));  // [1]
 */
export class Tanh implements Layer {
  /** The output y of the last forward pass. */
  out: Tensor | null = null;
  private dx: Tensor | null = null;

  /** y = tanh(x). */
  forward(x: Tensor): Tensor {
    this.out = tanh(x, this.out);
    return this.out;
  }

  /** dx = dout · (1 − y²). */
  backward(dout: Tensor): Tensor {
    if (!this.out) throw new Error('Tanh: backward called before forward');
    this.dx = tanhBackward(dout, this.out, this.dx); // dx = dout · (1 − y²)
    return this.dx;
  }
}
