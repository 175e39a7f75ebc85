import type { Backend, DType } from '../kernels/Backend.js';
import type { TwoLayerParams } from './TwoLayerNet.js';
import type { Targets } from '../functions/targets.js';
import { Random } from '../random.js';
import { F, Linear, Model, type Variable, type VariableLike } from '../autograd/index.js';

/** Where the weights of an AutogradTwoLayerNet come from. */
export interface AutogradTwoLayerNetOptions {
  /** The generator for the initial weights, drawn as TwoLayerNet draws them; or give `seed`. */
  rng?: Random;
  /** Seed of a new generator when `rng` is not given (default 0). */
  seed?: number;
  /** The std of the weights' normal draw (the book's 0.01). */
  weightInitStd?: number;
  /** Start from these weights instead (copied): a TwoLayerNet's `params`. */
  params?: TwoLayerParams;
  /** 'float32' (default, or the given params') or 'float64'. */
  dtype?: DType;
  /** Where the parameters live (default: the current backend, or the given params'). */
  backend?: Backend;
}

/**
 * The book's two-layer net written with autograd: linear → relu → linear → softmaxCrossEntropy,
 * with the parameters named W1, b1, W2, b2. Same weights and batches give TwoLayerNet's losses.
 *
 * @example
 * const net = new AutogradTwoLayerNet(784, 50, 10, { params: bookNet.params });
 * const loss = net.loss(xBatch, tBatch);
 * net.cleargrads();
 * loss.backward();
 * new SGD({ lr: 0.1 }).update(net.paramTensors(), net.gradTensors());
 */
export class AutogradTwoLayerNet extends Model {
  /** x · W1 + b1. */
  readonly affine1: Linear;
  /** h · W2 + b2. */
  readonly affine2: Linear;

  constructor(inputSize: number, hiddenSize: number, outputSize: number, options: AutogradTwoLayerNetOptions = {}) {
    super();
    const rng = options.rng ?? new Random(options.seed ?? 0);
    const common = { rng, weightInitStd: options.weightInitStd ?? 0.01, dtype: options.dtype ?? options.params?.W1.dtype, backend: options.backend ?? options.params?.W1.backend };
    const p = options.params;
    this.affine1 = new Linear(inputSize, hiddenSize, { ...common, names: ['W1', 'b1'], W: p?.W1, b: p?.b1 });
    this.affine2 = new Linear(hiddenSize, outputSize, { ...common, names: ['W2', 'b2'], W: p?.W2, b: p?.b2 });
  }

  /** The scores: relu(x · W1 + b1) · W2 + b2. */
  forward(x: VariableLike): Variable {
    return this.affine2.forward(F.relu(this.affine1.forward(x)));
  }

  /** The loss for a batch: softmaxCrossEntropy(forward(x), t), the book's SoftmaxWithLoss. */
  loss(x: VariableLike, t: Targets): Variable {
    return F.softmaxCrossEntropy(this.forward(x), t);
  }
}
