import type { Tensor } from '../tensor/Tensor.js';
import { reuse, sameShape } from '../tensor/ops.js';
import { mul, randomMaskInto, scale } from '../tensor/elementwise.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import { Random } from '../random.js';
import type { Layer } from './Layer.js';

/**
 * Dropout (the book's version): in training each element is kept with probability
 * 1 − dropoutRatio and the rest are zeroed, out = x · mask, with a new mask each forward pass;
 * at inference every element is kept and scaled by 1 − dropoutRatio instead.
 * Backward: dx = dout · mask (or dout · (1 − dropoutRatio) after an inference pass).
 *
 * Masks come from `rng`: pass your run's generator. Without one, the layer makes `new Random(0)`,
 * so two such layers draw the same masks. For gradient checks, set `fixedMask`: training
 * passes then use it instead of drawing.
 *
 * @example
 * const dropout = new Dropout(0.5, new Random(1));
 * dropout.forward(x);          // training: about half the elements zeroed
 * dropout.forward(x, false);   // inference: x · 0.5
 */
export class Dropout implements Layer {
  /** The mask of the last training pass: 1 where kept, 0 where dropped. */
  mask: Tensor | null = null;
  /** When set, training passes use this mask (of the input's shape) instead of drawing one. */
  fixedMask: Tensor | null = null;
  private trained = true;
  private out: Tensor | null = null;
  private dx: Tensor | null = null;
  private drawn: Tensor | null = null;

  /**
   * @param dropoutRatio The fraction of elements dropped in training, in [0, 1) (0.5).
   * @param rng The generator of the masks.
   */
  constructor(readonly dropoutRatio = 0.5, readonly rng: Random = new Random(0)) {
    if (!(dropoutRatio >= 0 && dropoutRatio < 1)) throw new RangeError(`Dropout: the ratio must be in [0, 1), got ${dropoutRatio}`);
  }

  /** Training (default): out = x · mask with a new mask; inference: out = x · (1 − dropoutRatio). */
  forward(x: Tensor, train = true): Tensor {
    this.trained = train;
    if (!train) {
      this.out = scale(x, 1.0 - this.dropoutRatio, this.out); // x · (1 − ratio)
      return this.out;
    }
    if (this.fixedMask) {
      if (!sameShape(this.fixedMask.shape, x.shape)) {
        throw new ShapeError(`Dropout: the fixed mask has shape ${fmtShape(this.fixedMask.shape)} but the input has shape ${fmtShape(x.shape)}`);
      }
      this.mask = this.fixedMask;
    } else {
      this.drawn = reuse(this.drawn, x.shape, x);
      randomMaskInto(this.drawn, this.dropoutRatio, this.rng); // mask = rand(x.shape) > ratio
      this.mask = this.drawn;
    }
    this.out = mul(x, this.mask, this.out); // x · mask
    return this.out;
  }

  /** dx = dout · mask, or dout · (1 − dropoutRatio) after an inference pass. */
  backward(dout: Tensor): Tensor {
    if (!this.out) throw new Error('Dropout: backward called before forward');
    if (!this.trained) {
      this.dx = scale(dout, 1.0 - this.dropoutRatio, this.dx);
      return this.dx;
    }
    if (!sameShape(dout.shape, this.mask!.shape)) {
      throw new ShapeError(`Dropout: dout has shape ${fmtShape(dout.shape)} but the output was ${fmtShape(this.mask!.shape)}`);
    }
    this.dx = mul(dout, this.mask!, this.dx); // dx = dout · mask
    return this.dx;
  }
}
