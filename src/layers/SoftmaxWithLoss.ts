import type { Tensor } from '../tensor/Tensor.js';
import { crossEntropyLabels, softmaxCrossEntropy, softmaxLossBackward, softmaxRows } from '../tensor/ops.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import { toLabels, type Targets } from '../functions/targets.js';

/**
 * Softmax followed by the cross-entropy loss, as one layer, because together their backward
 * is simply dx = (y − t) / N.
 *
 * Targets are one-hot rows or label indices. A 1-D input is one sample (a batch of one,
 * not a batch of 10, the book's pitfall with a single sample).
 *
 * @example
 * ```ts
 * import { SoftmaxWithLoss, Tensor } from 'backprop-ts';
 *
 * const last = new SoftmaxWithLoss();
 * const scores = Tensor.from([[2, 1, 0.1], [0.5, 2.5, 0.3]], { dtype: 'float64' });  // 2 rows, 3 classes
 * const loss = last.forward(scores, [0, 1]);     // mean of −log(softmax(scores)[label]): 0.3185
 * const dx = last.backward();                    // (y − t) / 2
 * console.log(loss, dx.toArray());
 * ```
 */
export class SoftmaxWithLoss {
  /** The mean cross-entropy loss of the last forward pass. */
  loss: number | null = null;
  /** Softmax output. */
  y: Tensor | null = null;
  /** Targets as label indices. */
  t: Int32Array | null = null;
  private dx: Tensor | null = null;
  private inputShape: readonly number[] | null = null;
  /** dx already holds backward(1)'s result (forwardWithGradient). */
  private dxReady = false;

  /** loss = −Σ t · log(softmax(x) + 1e-7) / N, keeping the softmax output y. */
  forward(x: Tensor, t: Targets): number {
    if (x.ndim !== 1 && x.ndim !== 2) {
      throw new ShapeError(`SoftmaxWithLoss: scores must be 1-D (one sample) or 2-D (a batch), got ${fmtShape(x.shape)}`);
    }
    this.inputShape = x.shape;
    const x2 = x.ndim === 1 ? x.reshape([1, x.size]) : x;
    const [rows, cols] = x2.shape;
    this.t = toLabels(t, rows, cols, 'SoftmaxWithLoss', this.t ?? undefined);
    this.dxReady = false;
    this.y = softmaxRows(x2, this.y);
    this.loss = crossEntropyLabels(this.y, this.t);
    return this.loss;
  }

  /**
   * forward(x, t) for a batch (2-D), computing in the same pass over the rows the dx that
   * backward(1) returns, (y − t) / N; that backward then does no work. The same numbers as
   * forward then backward(1), bit for bit.
   */
  forwardWithGradient(x: Tensor, t: Targets): number {
    if (x.ndim !== 2) throw new ShapeError(`SoftmaxWithLoss.forwardWithGradient: scores must be 2-D (a batch), got ${fmtShape(x.shape)}`);
    this.inputShape = x.shape;
    const [rows, cols] = x.shape;
    this.t = toLabels(t, rows, cols, 'SoftmaxWithLoss', this.t ?? undefined);
    const r = softmaxCrossEntropy(x, this.t, 1 / rows, this.y, this.dx);
    this.y = r.y;
    this.dx = r.dx;
    this.loss = r.loss;
    this.dxReady = true;
    return r.loss;
  }

  /** dx = (y − t) / batch size. `dout` is 1 for the last layer, as in the book. */
  backward(dout = 1): Tensor {
    if (!this.y || !this.t || !this.inputShape) throw new Error('SoftmaxWithLoss: backward called before forward');
    const batchSize = this.y.shape[0];
    if (this.dxReady && dout === 1) return this.dx!; // computed by forwardWithGradient
    this.dx = softmaxLossBackward(this.y, this.t, dout / batchSize, this.dx);
    return this.inputShape.length === 1 ? this.dx.reshape(this.inputShape) : this.dx;
  }
}
