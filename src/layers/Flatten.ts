import type { Tensor } from '../tensor/Tensor.js';
import { reuseView } from '../tensor/conv.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { Layer } from './Layer.js';

/**
 * (N, C, H, W) → (N, C·H·W), where a convolution or pooling layer meets an affine layer in a
 * sequence of layers; backward gives dout the input's shape back. Both are views: no copy.
 * (The book's Affine flattens its own input, so its SimpleConvNet needs no Flatten.)
 *
 * @example
 * const flatten = new Flatten();
 * flatten.forward(x).shape;       // x: (100, 30, 12, 12) → [100, 4320]
 * flatten.backward(dout).shape;   // dout: (100, 4320) → [100, 30, 12, 12]
 */
export class Flatten implements Layer {
  /** The input's shape in the last forward pass. */
  inputShape: readonly number[] | null = null;
  private out: Tensor | null = null;
  private dx: Tensor | null = null;

  /** (N, …) → (N, −1), a view of x. */
  forward(x: Tensor): Tensor {
    if (x.ndim < 1) throw new ShapeError(`Flatten: input must have a batch dimension, got shape ${fmtShape(x.shape)}`);
    const features = x.shape.slice(1).reduce((a, d) => a * d, 1);
    this.inputShape = x.shape;
    this.out = reuseView(this.out, x, [x.shape[0], features]);
    return this.out;
  }

  /** dout in the input's shape, a view of dout. */
  backward(dout: Tensor): Tensor {
    if (!this.inputShape || !this.out) throw new Error('Flatten: backward called before forward');
    if (dout.size !== this.out.size) {
      throw new ShapeError(`Flatten: dout has shape ${fmtShape(dout.shape)} but the output was ${fmtShape(this.out.shape)}`);
    }
    this.dx = reuseView(this.dx, dout, this.inputShape);
    return this.dx;
  }
}
