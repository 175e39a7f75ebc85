import { Tensor } from '../tensor/Tensor.js';
import { sameShape, sumColumns } from '../tensor/ops.js';
import {
  add, div, dotColumns, divRow, meanColumns, movingAverageInto, mulAddRow, mulRow, scale, sqrtPlus, subRow, varianceColumns,
} from '../tensor/elementwise.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { Layer } from './Layer.js';

/**
 * Batch normalization (Ioffe and Szegedy 2015), as the book's layer: in training each feature
 * is normalized over the mini-batch, then scaled and shifted by the learned γ and β:
 *   μ = mean(x),  var = mean((x − μ)²),  xn = (x − μ) / √(var + ε),  out = γ · xn + β,
 * and the running mean and variance are updated, running ← momentum · running + (1 − momentum) · batch;
 * at inference the running statistics replace the batch's. ε is the book's 1e-6 (written `10e-7`).
 *
 * Input is 2-D (N, D), or of any rank seen as (N, −1) as in the book (a convolution's
 * (N, C, H, W) output is normalized per C·H·W feature); dx has the input's shape.
 * Backward stores dgamma and dbeta.
 *
 * @example
 * const bn = new BatchNormalization(Tensor.from([1, 1, 1]), Tensor.from([0, 0, 0]));
 * bn.forward(x);          // x: (N, 3), training: uses and updates the batch statistics
 * bn.forward(x, false);   // inference: uses runningMean and runningVar
 */
export class BatchNormalization implements Layer {
  /** The book's ε, added to the variance before the square root. */
  readonly eps = 1e-6;
  /** The running mean of each feature, used at inference. */
  readonly runningMean: Tensor;
  /** The running variance of each feature, used at inference. */
  readonly runningVar: Tensor;
  /** dγ = Σ_rows dout · xn, after backward. */
  dgamma: Tensor | null = null;
  /** dβ = Σ_rows dout, after backward. */
  dbeta: Tensor | null = null;
  /** The normalized input of the last forward pass, (N, D). */
  xn: Tensor | null = null;
  /** √(var + ε) of the last forward pass (the batch's, or the running one at inference). */
  std: Tensor | null = null;
  private trained = true;
  private inputShape: readonly number[] | null = null;
  private mu: Tensor | null = null;
  private var: Tensor | null = null;
  private xc: Tensor | null = null;
  private out: Tensor | null = null;
  private outView: Tensor | null = null;
  private dx: Tensor | null = null;
  private dxView: Tensor | null = null;
  private gOverStd: Tensor | null = null;
  private rowScale: Tensor | null = null;
  private rowShift: Tensor | null = null;

  /**
   * @param gamma scale, D elements (the book starts it at ones)
   * @param beta shift, D elements (zeros)
   * @param momentum how much of the running statistics is kept at each training pass (0.9)
   * @param runningMean D elements; zeros if not given, as in the book
   * @param runningVar D elements; zeros if not given, as in the book
   */
  constructor(public gamma: Tensor, public beta: Tensor, readonly momentum = 0.9, runningMean?: Tensor | null, runningVar?: Tensor | null) {
    const d = gamma.size;
    if (beta.size !== d) {
      throw new ShapeError(`BatchNormalization: beta has ${beta.size} elements but gamma has ${d} (gamma shape ${fmtShape(gamma.shape)}, beta shape ${fmtShape(beta.shape)})`);
    }
    if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`BatchNormalization: momentum must be in [0, 1], got ${momentum}`);
    for (const [name, t] of [['runningMean', runningMean], ['runningVar', runningVar]] as const) {
      if (t && t.size !== d) throw new ShapeError(`BatchNormalization: ${name} has ${t.size} elements but gamma has ${d}`);
    }
    const like = { dtype: gamma.dtype, backend: gamma.backend };
    this.runningMean = runningMean ?? Tensor.zeros([d], like);
    this.runningVar = runningVar ?? Tensor.zeros([d], like);
  }

  /** out = γ · xn + β, normalized by the batch's statistics in training (updating the running ones), by the running ones at inference. */
  forward(x: Tensor, train = true): Tensor {
    const n = x.ndim === 0 ? 1 : x.shape[0];
    const features = n === 0 ? 0 : x.size / n;
    if (x.ndim < 2 || features !== this.gamma.size) {
      throw new ShapeError(
        `BatchNormalization: input has ${x.ndim < 2 ? 'fewer than 2 dimensions' : `${features} features per row`} but gamma has ${this.gamma.size} (x shape ${fmtShape(x.shape)}, gamma shape ${fmtShape(this.gamma.shape)})`,
      );
    }
    this.inputShape = x.shape;
    this.trained = train;
    const x2 = x.ndim === 2 ? x : x.reshape([n, features]);
    if (train) {
      this.mu = meanColumns(x2, this.mu); //                  μ = mean(x, axis=0)
      this.var = varianceColumns(x2, this.mu, this.var); //    var = mean((x − μ)², axis=0)
      this.std = sqrtPlus(this.var, this.eps, this.std); //    std = √(var + ε)
      this.xc = subRow(x2, this.mu, this.xc); //               xc = x − μ
      movingAverageInto(this.runningMean, this.mu, this.momentum); // running = m·running + (1−m)·μ
      movingAverageInto(this.runningVar, this.var, this.momentum);
    } else {
      this.std = sqrtPlus(this.runningVar, this.eps, this.std);
      this.xc = subRow(x2, this.runningMean, this.xc);
    }
    this.xn = divRow(this.xc, this.std, this.xn); //            xn = xc / std
    this.out = mulAddRow(this.xn, this.gamma, this.beta, this.out); // out = γ·xn + β
    return this.view('out', this.out, x.shape);
  }

  /**
   * The book's backward, simplified: with dβ = Σ dout and dγ = Σ xn·dout (sums over the batch),
   *   dx = (γ / std) · (dout − (dβ + xn · dγ) / N)
   * (the batch's mean and variance depend on x). After an inference pass they are constants
   * and dx = (γ / std) · dout.
   */
  backward(dout: Tensor): Tensor {
    if (!this.xn || !this.std || !this.inputShape) throw new Error('BatchNormalization: backward called before forward');
    const [n, d] = this.xn.shape;
    if (dout.size !== n * d) {
      throw new ShapeError(`BatchNormalization: dout has shape ${fmtShape(dout.shape)} but the output was ${fmtShape(this.inputShape)}`);
    }
    const g = dout.ndim === 2 ? dout : dout.reshape([n, d]);
    this.dbeta = sumColumns(g, this.dbeta); //                      dβ = Σ dout
    this.dgamma = dotColumns(this.xn, g, this.dgamma); //           dγ = Σ xn·dout
    this.gOverStd = div(this.gamma.ndim === 1 ? this.gamma : this.gamma.reshape([d]), this.std, this.gOverStd); // γ / std
    if (this.trained) {
      this.rowScale = scale(this.dgamma, -1 / n, this.rowScale);
      this.rowShift = scale(this.dbeta, -1 / n, this.rowShift);
      this.dx = mulAddRow(this.xn, this.rowScale, this.rowShift, this.dx); // −(xn·dγ + dβ)/N
      this.dx = add(this.dx, g, this.dx); //                                 + dout
      this.dx = mulRow(this.dx, this.gOverStd, this.dx); //                  · γ/std
    } else {
      this.dx = mulRow(g, this.gOverStd, this.dx);
    }
    return this.view('dx', this.dx, this.inputShape);
  }

  /** The (N, D) buffer seen in the input's shape, keeping the view between calls. */
  private view(which: 'out' | 'dx', t: Tensor, shape: readonly number[]): Tensor {
    if (sameShape(t.shape, shape)) return t;
    const key = which === 'out' ? 'outView' : 'dxView';
    const v = this[key];
    if (v && v.storage === t.storage && sameShape(v.shape, shape)) return v;
    return (this[key] = t.reshape(shape));
  }
}
