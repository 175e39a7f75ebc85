import type { Backend, DType } from '../kernels/Backend.js';
import { Tensor } from '../tensor/Tensor.js';
import { Affine } from '../layers/Affine.js';
import { Relu } from '../layers/Relu.js';
import { Sigmoid } from '../layers/Sigmoid.js';
import { Tanh } from '../layers/Tanh.js';
import { Dropout } from '../layers/Dropout.js';
import { BatchNormalization } from '../layers/BatchNormalization.js';
import { initWeight, weightStd, type WeightInit } from '../layers/init.js';
import { Random } from '../random.js';
import { Sequential, type SequentialLayer } from './Sequential.js';

/** The activation after each hidden Affine layer. */
export type Activation = 'relu' | 'sigmoid' | 'tanh';

/** The book's MultiLayerNetExtend options, plus the generator, dtype and backend. */
export interface MultiLayerNetOptions {
  /** 'relu' (default), 'sigmoid' or 'tanh'. */
  activation?: Activation;
  /** 'relu'/'he' → √(2/n), 'sigmoid'/'xavier' → √(1/n), or a fixed std (default 'relu', as the book). */
  weightInitStd?: WeightInit;
  /** L2 weight decay λ: loss += ½λ Σ‖W‖², dW += λW (0). */
  weightDecayLambda?: number;
  /** A Dropout layer after each hidden activation (false). */
  useDropout?: boolean;
  /** The fraction of units dropped in training (0.5). */
  dropoutRatio?: number;
  /** A BatchNormalization layer between each hidden Affine and its activation (false). */
  useBatchnorm?: boolean;
  /** The generator for the initial weights and the dropout masks; or give `seed`. */
  rng?: Random;
  /** Seed of a new generator when `rng` is not given (default 0). */
  seed?: number;
  /** 'float32' (default) or 'float64' (gradient checks). */
  dtype?: DType;
  /** The backend that owns the weights; the default backend if omitted. */
  backend?: Backend;
}

const ACTIVATIONS: Record<Activation, () => SequentialLayer> = {
  relu: () => new Relu(),
  sigmoid: () => new Sigmoid(),
  tanh: () => new Tanh(),
};

/**
 * The book's fully connected network of any depth, with its chapter 6 options
 * (MultiLayerNetExtend): for each hidden size, Affine → [BatchNorm] → activation → [Dropout],
 * then a last Affine and SoftmaxWithLoss. Parameters have the book's names: W1 b1 … W(L+1)
 * b(L+1), and gamma1 beta1 … gammaL betaL with batch norm; `buffers` holds the batch norm
 * running statistics (runningMean1, runningVar1, …). Layers by the book's names are in
 * `namedLayers` (Affine1, BatchNorm1, Activation_function1, Dropout1, …).
 *
 * @example
 * const net = new MultiLayerNet(784, [100, 100, 100], 10, { activation: 'relu', weightInitStd: 'he', useBatchnorm: true, seed: 1 });
 * const grads = net.gradient(xBatch, tBatch);   // W1 … W4, b1 … b4, gamma1 … gamma3, beta1 … beta3
 * net.accuracy(xTest, tTest);                   // inference: running statistics, no dropout
 */
export class MultiLayerNet extends Sequential {
  /** The hidden layers' activation. */
  readonly activation: Activation;
  /** Whether each hidden activation is followed by Dropout. */
  readonly useDropout: boolean;
  /** Whether each hidden Affine is followed by BatchNormalization. */
  readonly useBatchnorm: boolean;
  /** Draws the initial weights, then the dropout masks. */
  readonly rng: Random;
  /** The layers by the book's names (Affine1, BatchNorm1, Activation_function1, Dropout1, …). */
  readonly namedLayers: Readonly<Record<string, SequentialLayer>>;

  /**
   * @param inputSize Features per input row (784).
   * @param hiddenSizeList The size of each hidden layer ([100, 100, 100]).
   * @param outputSize Classes (10).
   * @param options Activation, initialization, weight decay, dropout, batch norm, generator, dtype, backend.
   */
  constructor(
    readonly inputSize: number,
    readonly hiddenSizeList: readonly number[],
    readonly outputSize: number,
    options: MultiLayerNetOptions = {},
  ) {
    const sizes = [inputSize, ...hiddenSizeList, outputSize];
    sizes.forEach((v, i) => {
      const what = i === 0 ? 'inputSize' : i === sizes.length - 1 ? 'outputSize' : `hiddenSizeList[${i - 1}]`;
      if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`MultiLayerNet: ${what} must be a whole number > 0, got ${v}`);
    });
    const activation = options.activation ?? 'relu';
    if (!Object.hasOwn(ACTIVATIONS, activation)) {
      throw new RangeError(`MultiLayerNet: unknown activation '${activation}' (expected relu, sigmoid or tanh)`);
    }
    const init = options.weightInitStd ?? 'relu';
    weightStd(init, 1); // rejects unknown names and bad numbers before any weight is drawn
    const rng = options.rng ?? new Random(options.seed ?? 0);
    const like = { dtype: options.dtype ?? 'float32', backend: options.backend };

    // W_idx = scale · randn(n_{idx−1}, n_idx), scale from the fan-in n_{idx−1}; b_idx = 0
    const affines = sizes.slice(1).map((n, i) => new Affine(initWeight([sizes[i], n], init, rng, like), Tensor.zeros([n], like)));
    const named: [string, SequentialLayer][] = [];
    hiddenSizeList.forEach((n, i) => {
      const idx = i + 1;
      named.push([`Affine${idx}`, affines[i]]);
      if (options.useBatchnorm) {
        const gamma = Tensor.zeros([n], like);
        gamma.data.fill(1); // gamma = ones, beta = zeros
        named.push([`BatchNorm${idx}`, new BatchNormalization(gamma, Tensor.zeros([n], like))]);
      }
      named.push([`Activation_function${idx}`, ACTIVATIONS[activation]()]);
      if (options.useDropout) named.push([`Dropout${idx}`, new Dropout(options.dropoutRatio ?? 0.5, rng)]);
    });
    named.push([`Affine${hiddenSizeList.length + 1}`, affines[affines.length - 1]]);

    super(named.map(([, layer]) => layer), { weightDecayLambda: options.weightDecayLambda ?? 0, names: 'book' });
    this.activation = activation;
    this.useDropout = options.useDropout ?? false;
    this.useBatchnorm = options.useBatchnorm ?? false;
    this.rng = rng;
    this.namedLayers = Object.fromEntries(named);
  }

  /** Number of hidden layers. */
  get hiddenLayerNum(): number {
    return this.hiddenSizeList.length;
  }
}
