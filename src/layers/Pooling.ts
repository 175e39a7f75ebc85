import type { Tensor } from '../tensor/Tensor.js';
import { convGeometry, maxPool, maxPoolBackward } from '../tensor/conv.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { Layer } from './Layer.js';
import type { Relu } from './Relu.js';

/**
 * Max pooling (the book's `Pooling`, chapter 7): the largest value of each poolH×poolW window,
 * per channel, (N, C, H, W) → (N, C, outH, outW) with outH = (H + 2·pad − poolH) // stride + 1,
 * floored as the book's im2col does, so a last partial window is dropped (2×2, stride 2 on 7×7
 * gives 3×3). The stride defaults to 2, as in the book. With pad > 0 the input is padded with
 * zeros, as the book's im2col pads it (np.pad), so a padding cell can be a window's maximum; the
 * book's own Pooling.forward leaves pad out of its output size and only runs with pad 0. Forward
 * keeps where each maximum was (the first on ties); backward sends each dout element there and
 * 0 everywhere else (nothing for a maximum in the padding).
 *
 * @example
 * const pool = new Pooling(2, 2);     // 2×2 windows, stride 2
 * pool.forward(x);                    // x: (100, 30, 24, 24) → (100, 30, 12, 12)
 * pool.backward(dout);                // dout: (100, 30, 12, 12) → (100, 30, 24, 24)
 */
export class Pooling implements Layer {
  /** The input of the last forward pass. */
  x: Tensor | null = null;
  /** For each output element, the index in x of its maximum (−1 for a padding cell). */
  argMax: Int32Array | null = null;
  private out: Tensor | null = null;
  private dx: Tensor | null = null;

  /**
   * @param poolH Window height.
   * @param poolW Window width.
   * @param stride Step between windows (2).
   * @param pad Zero padding on each side (0).
   */
  constructor(readonly poolH: number, readonly poolW: number, readonly stride = 2, readonly pad = 0) {
    for (const [name, v, min] of [['poolH', poolH, 1], ['poolW', poolW, 1], ['stride', stride, 1], ['pad', pad, 0]] as const) {
      if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`Pooling: ${name} must be a whole number ≥ ${min}, got ${v}`);
    }
  }

  /** (N, C, H, W) → (N, C, outH, outW): the maximum of each window. */
  forward(x: Tensor): Tensor {
    convGeometry(x.shape, this.poolH, this.poolW, this.stride, this.pad, 'Pooling'); // shape errors name this layer
    const r = maxPool(x, this.poolH, this.poolW, this.stride, this.pad, this.out, this.argMax);
    this.x = x;
    this.out = r.out;
    this.argMax = r.argMax;
    return this.out;
  }

  /** Each dout element goes to where its window's maximum was; 0 elsewhere. */
  backward(dout: Tensor): Tensor {
    return this.scatter(dout, null); // dx[argMax[i]] += dout[i]
  }

  /**
   * relu.backward(this.backward(dout)) in one pass, where `relu` is the Relu whose output this
   * layer pooled: dx[argMax[i]] += dout[i] only where that output is > 0 (bit-identical to the
   * two calls). Returns the gradient at the Relu's input.
   */
  backwardRelu(dout: Tensor, relu: Relu): Tensor {
    if (this.x && relu.out !== this.x) throw new Error('Pooling.backwardRelu: the Relu did not produce this layer\'s input');
    return this.scatter(dout, this.x); // dx[argMax[i]] += dout[i] where x[argMax[i]] > 0
  }

  private scatter(dout: Tensor, mask: Tensor | null): Tensor {
    if (!this.x || !this.out || !this.argMax) throw new Error('Pooling: backward called before forward');
    if (dout.size !== this.out.size) {
      throw new ShapeError(`Pooling: dout has shape ${fmtShape(dout.shape)} but the output was ${fmtShape(this.out.shape)}`);
    }
    const d = dout.ndim === 4 ? dout : dout.reshape(this.out.shape);
    this.dx = maxPoolBackward(d, this.argMax, this.x.shape, this.poolH, this.poolW, this.stride, this.pad, this.dx, mask);
    return this.dx;
  }
}
