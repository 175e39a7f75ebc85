/** The layers of chapter 6 as operations: dropout and batchNorm, written with other operations. */
import { Tensor } from '../../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../../tensor/ShapeError.js';
import { movingAverageInto, randomMaskInto } from '../../tensor/elementwise.js';
import { Random } from '../../random.js';
import { Variable, type VariableLike, asVariables } from '../Variable.js';
import { add, div, mul, pow, sub } from './arithmetic.js';
import { mean } from './reduce.js';
import { reshape } from './shape.js';

/** The generator of dropout masks when none is given (seeded, as every random choice). */
const defaultRng = new Random(0);

/** How dropout runs. */
export interface DropoutOptions {
  /** Training (a new mask) or inference (x · (1 − ratio)); default true. */
  train?: boolean;
  /** The generator of the mask (default: one shared generator seeded 0). */
  rng?: Random;
}

/**
 * The book's Dropout: in training each element is kept with probability 1 − ratio (out = x · mask);
 * at inference out = x · (1 − ratio).
 *
 * @example F.dropout(h, 0.5, { rng })
 */
export function dropout(x: VariableLike, ratio = 0.5, options: DropoutOptions = {}): Variable {
  const [v] = asVariables(x);
  if (options.train === false) return mul(v, 1 - ratio);
  const mask = Tensor.zeros(v.shape, { dtype: v.dtype, backend: v.data.backend });
  randomMaskInto(mask, ratio, options.rng ?? defaultRng);
  const m = Variable.constant(mask);
  m.temporary = true; // released with the graph (Model.cleargrads)
  return mul(v, m);
}

/** How batchNorm runs, and the running statistics it keeps. */
export interface BatchNormOptions {
  /** Batch statistics, updating the running ones (default true), or the running statistics (inference). */
  train?: boolean;
  /** Running mean and variance of shape (D,), updated in place in training (the book starts them at 0). */
  runningMean?: Tensor;
  /** The running variance, as runningMean. */
  runningVar?: Tensor;
  /** running ← momentum · running + (1 − momentum) · batch (0.9). */
  momentum?: number;
  /** ε of std = √(var + ε): the book's 1e-6. */
  eps?: number;
}

/**
 * The book's batch normalization over the rows of x (N, D) (a 4-D x is flattened to (N, −1)):
 * xn = (x − μ) / √(var + ε), out = γ · xn + β, with μ and var over the batch, written with
 * mean, sub, pow, div, mul and add, so its backward needs no formula of its own.
 */
export function batchNorm(x: VariableLike, gamma: VariableLike, beta: VariableLike, options: BatchNormOptions = {}): Variable {
  const [xv, g, b] = asVariables(x, gamma, beta);
  const { train = true, momentum = 0.9, eps = 1e-6 } = options;
  const n = xv.ndim ? xv.shape[0] : 0;
  const x2 = xv.ndim === 2 ? xv : reshape(xv, [n, -1]);
  const d = x2.shape[1];
  if (g.size !== d || b.size !== d) {
    throw new ShapeError(`batchNorm: gamma and beta need ${d} elements for x of shape ${fmtShape(xv.shape)}, got ${fmtShape(g.shape)} and ${fmtShape(b.shape)}`);
  }
  let out: Variable;
  if (train) {
    const mu = mean(x2, 0);
    const xc = sub(x2, mu);
    const variance = mean(pow(xc, 2), 0);
    out = add(mul(reshape(g, [d]), div(xc, pow(add(variance, eps), 0.5))), reshape(b, [d]));
    if (options.runningMean) movingAverageInto(options.runningMean, mu.data, momentum);
    if (options.runningVar) movingAverageInto(options.runningVar, variance.data, momentum);
  } else {
    if (!options.runningMean || !options.runningVar) throw new ShapeError('batchNorm: inference (train: false) needs runningMean and runningVar');
    const std = Variable.constant(options.runningVar).add(eps).pow(0.5);
    out = add(mul(reshape(g, [d]), div(sub(x2, Variable.constant(options.runningMean)), std)), reshape(b, [d]));
  }
  return reshape(out, xv.shape);
}
