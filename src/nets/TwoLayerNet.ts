import type { Backend, DType } from '../kernels/Backend.js';
import { ChunkedAccuracy } from './ChunkedAccuracy.js';
import { Tensor } from '../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import { Affine } from '../layers/Affine.js';
import { Relu } from '../layers/Relu.js';
import { SoftmaxWithLoss } from '../layers/SoftmaxWithLoss.js';
import { matmulFused } from '../tensor/ops.js';
import { numericalGradient } from '../functions/numericalGradient.js';
import type { Targets } from '../functions/targets.js';
import { Random } from '../random.js';

/**
 * A view of the first `rows` rows of `buffer` (rows × cols, like `ref`'s dtype and backend), or
 * null, for a new buffer, when it has fewer rows or another shape.
 */
function firstRows(buffer: Tensor | null, rows: number, cols: number, ref: Tensor): Tensor | null {
  if (buffer === null || buffer.shape[0] < rows || buffer.shape[1] !== cols || buffer.dtype !== ref.dtype || buffer.backend !== ref.backend) return null;
  return buffer.rows(0, rows);
}

/** The parameters (and their gradients) by the book's names. */
export type TwoLayerParams = {
  /** First layer's weights (inputSize, hiddenSize). */
  W1: Tensor;
  /** First layer's biases (hiddenSize). */
  b1: Tensor;
  /** Second layer's weights (hiddenSize, outputSize). */
  W2: Tensor;
  /** Second layer's biases (outputSize). */
  b2: Tensor;
};

/** How TwoLayerNet draws and stores its weights. */
export interface TwoLayerNetOptions {
  /** The generator for the initial weights; or give `seed`. */
  rng?: Random;
  /** Seed of a new generator when `rng` is not given (default 0). */
  seed?: number;
  /** 'float32' (default) or 'float64' (gradient checks). */
  dtype?: DType;
  /** The backend that owns the weights; the default backend if omitted. */
  backend?: Backend;
}

/**
 * Rows evaluated at once by `accuracy`, so a 60,000-image set needs no 60,000-row buffers:
 * 4,000 rows (a 0.8 MB hidden layer) make each product long enough that its hand-off to a
 * second thread costs little.
 */
const EVAL_CHUNK = 4000;

/**
 * The book's two-layer network: Affine1 → Relu1 → Affine2 → SoftmaxWithLoss, trained by
 * backpropagation.
 *
 * @example
 * ```ts
 * import { TwoLayerNet, Tensor, ops } from 'backprop-ts';
 *
 * const net = new TwoLayerNet(4, 5, 3, 0.5, { seed: 1 });  // MNIST: new TwoLayerNet(784, 50, 10)
 * const x = Tensor.from([[1, 0, 0, 1], [0, 1, 1, 0]]);
 * const t = [2, 0];                                      // labels (or one-hot rows)
 * for (let i = 0; i < 50; i++) {
 *   const grads = net.gradient(x, t);                    // backprop
 *   for (const key of TwoLayerNet.paramNames) ops.axpyInto(-0.5, grads[key], net.params[key]);  // W ← W − lr·dW
 * }
 * console.log(net.loss(x, t), net.accuracy(x, t));      // a small loss, accuracy 1
 * ```
 */
export class TwoLayerNet {
  /** The parameter names, in the book's order. */
  static readonly paramNames = ['W1', 'b1', 'W2', 'b2'] as const;

  /** W1 b1 W2 b2: the tensors the layers use, updated in place by training. */
  readonly params: TwoLayerParams;
  /** The book's OrderedDict of layers: Affine1 → Relu1 → Affine2. */
  readonly layers: { Affine1: Affine; Relu1: Relu; Affine2: Affine };
  /** The loss layer; its `loss` is the last forward pass's. */
  readonly lastLayer = new SoftmaxWithLoss();
  /** gradient() draws no random numbers (see TrainerNetwork.drawsRandom). */
  readonly drawsRandom = false;
  private readonly evaluator = new ChunkedAccuracy(EVAL_CHUNK);
  /** The inference path's buffers (see infer). */
  private hidden: Tensor | null = null;
  private scores: Tensor | null = null;

  /**
   * @param inputSize Features per input row (784 for MNIST).
   * @param hiddenSize Hidden units (50 in the book).
   * @param outputSize Classes (10).
   * @param weightInitStd W = weightInitStd · randn(…), b = 0 (0.01).
   * @param options The generator, dtype and backend.
   */
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly outputSize: number,
    readonly weightInitStd = 0.01,
    options: TwoLayerNetOptions = {},
  ) {
    for (const [name, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['outputSize', outputSize]] as const) {
      if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`TwoLayerNet: ${name} must be a whole number > 0, got ${v}`);
    }
    if (!(weightInitStd > 0 && Number.isFinite(weightInitStd))) {
      throw new RangeError(`TwoLayerNet: weightInitStd must be a finite number > 0, got ${weightInitStd}`);
    }
    const rng = options.rng ?? new Random(options.seed ?? 0);
    const opts = { dtype: options.dtype ?? 'float32', backend: options.backend };
    // W = weight_init_std · randn(...), b = 0
    const randn = (rows: number, cols: number): Tensor => {
      const t = Tensor.zeros([rows, cols], opts);
      const d = t.data;
      for (let i = 0; i < d.length; i++) d[i] = weightInitStd * rng.normal();
      return t;
    };
    this.params = {
      W1: randn(inputSize, hiddenSize),
      b1: Tensor.zeros([hiddenSize], opts),
      W2: randn(hiddenSize, outputSize),
      b2: Tensor.zeros([outputSize], opts),
    };
    this.layers = {
      Affine1: new Affine(this.params.W1, this.params.b1),
      Relu1: new Relu(),
      Affine2: new Affine(this.params.W2, this.params.b2),
    };
    this.layers.Affine1.sparseInput = true; // its input is the images: zero pixels may be skipped (same numbers)
  }

  /** The dtype of the parameters. */
  get dtype(): DType {
    return this.params.W1.dtype;
  }

  /** The raw scores (before softmax) for a batch. The result is reused by the next call. */
  predict(x: Tensor): Tensor {
    let out = x;
    for (const layer of Object.values(this.layers)) out = layer.forward(out);
    return out;
  }

  /** The loss for a batch: SoftmaxWithLoss(predict(x), t). */
  loss(x: Tensor, t: Targets): number {
    return this.lastLayer.forward(this.predict(x), t);
  }

  /** The fraction of rows whose highest score is the target class, over any number of rows. */
  accuracy(x: Tensor, t: Targets): number {
    if (x.shape[0] === 0) throw new ShapeError('TwoLayerNet.accuracy: no rows given');
    this.checkInput(x);
    return this.evaluator.measure(x, t, (batch) => this.infer(batch), 'TwoLayerNet.accuracy');
  }

  /**
   * predict(x) for evaluation only, two fused products and no layer state:
   * h = relu(x · W1 + b1), then h · W2 + b2, the bias and ReLU applied as each product is
   * stored (the same numbers as predict, bit for bit; x's zero pixels may be skipped, which
   * changes no sum). The result is a view of buffers kept for the largest batch so far, reused
   * by the next call.
   */
  private infer(x: Tensor): Tensor {
    const { W1, b1, W2, b2 } = this.params;
    const n = x.shape[0];
    const h = matmulFused(x, W1, { bias: b1, relu: true, sparseA: true, out: firstRows(this.hidden, n, this.hiddenSize, x) });
    const y = matmulFused(h, W2, { bias: b2, out: firstRows(this.scores, n, this.outputSize, x) });
    if (h.shape[0] >= (this.hidden?.shape[0] ?? 0)) {
      this.hidden = h;
      this.scores = y;
    }
    return y;
  }

  private checkInput(x: Tensor): void {
    if (x.ndim !== 2 || x.shape[1] !== this.inputSize) {
      throw new ShapeError(`TwoLayerNet: input shape ${fmtShape(x.shape)} does not match inputSize ${this.inputSize} (expected [N,${this.inputSize}])`);
    }
  }

  /**
   * Gradients by central differences, the slow check of `gradient` (use float64).
   * Each parameter is nudged in place and the loss recomputed, as in the book.
   */
  numericalGradient(x: Tensor, t: Targets): TwoLayerParams {
    const lossW = (): number => this.loss(x, t);
    return {
      W1: numericalGradient(lossW, this.params.W1),
      b1: numericalGradient(lossW, this.params.b1),
      W2: numericalGradient(lossW, this.params.W2),
      b2: numericalGradient(lossW, this.params.b2),
    };
  }

  /**
   * Gradients by backpropagation: forward, then each layer's backward in reverse order.
   * The returned tensors belong to the layers and are overwritten by the next call.
   */
  gradient(x: Tensor, t: Targets): TwoLayerParams {
    this.checkInput(x);
    const { Affine1, Relu1, Affine2 } = this.layers;
    // forward, as loss(x, t), with Affine1 and Relu1 in one fused product and the loss's
    // backward computed in the same pass as the softmax (the same numbers, bit for bit)
    this.lastLayer.forwardWithGradient(Affine2.forward(Affine1.forwardRelu(x, Relu1)), t);
    let dout = this.lastLayer.backward(1); // backward, dout = 1
    dout = Affine2.backwardRelu(dout, Relu1); // Affine2 then Relu1: the mask fused into dout · W2ᵀ
    // The input gradient of the first layer is never used: skip it (a third of the step's work).
    Affine1.backward(dout, { inputGradient: false });
    return { W1: Affine1.dW!, b1: Affine1.db!, W2: Affine2.dW!, b2: Affine2.db! };
  }
}
