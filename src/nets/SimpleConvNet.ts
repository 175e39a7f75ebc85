import type { Backend, DType } from '../kernels/Backend.js';
import { ChunkedAccuracy } from './ChunkedAccuracy.js';
import { Tensor } from '../tensor/Tensor.js';
import { convOutputSize, reuseView } from '../tensor/conv.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import { Convolution } from '../layers/Convolution.js';
import { Pooling } from '../layers/Pooling.js';
import { Affine } from '../layers/Affine.js';
import { Relu } from '../layers/Relu.js';
import { SoftmaxWithLoss } from '../layers/SoftmaxWithLoss.js';
import { numericalGradient } from '../functions/numericalGradient.js';
import type { Targets } from '../functions/targets.js';
import { Random } from '../random.js';

/** The convolution's settings, the book's `conv_param` (filter_num, filter_size, pad, stride). */
export interface ConvParam {
  /** Number of filters FN (30). */
  filterNum: number;
  /** Side of the square filters (5). */
  filterSize: number;
  /** Zero padding on each side (0). */
  pad: number;
  /** Step between windows (1). */
  stride: number;
}

/** The parameters (and their gradients) by the book's names. */
export type SimpleConvParams = {
  /** Filters (FN, C, FS, FS). */
  W1: Tensor;
  /** Filter biases (FN). */
  b1: Tensor;
  /** (FN · poolH · poolW, hidden). */
  W2: Tensor;
  /** Hidden biases (hidden). */
  b2: Tensor;
  /** (hidden, output). */
  W3: Tensor;
  /** Output biases (output). */
  b3: Tensor;
};

/** How SimpleConvNet draws and stores its weights. */
export interface SimpleConvNetOptions {
  /** The generator for the initial weights; or give `seed`. */
  rng?: Random;
  /** Seed of a new generator when `rng` is not given (default 0). */
  seed?: number;
  /** 'float32' (default) or 'float64' (gradient checks). */
  dtype?: DType;
  /** The backend that owns the weights; the default backend if omitted. */
  backend?: Backend;
}

/** The book's conv_param defaults. */
export const CONV_PARAM_DEFAULTS: Readonly<ConvParam> = Object.freeze({ filterNum: 30, filterSize: 5, pad: 0, stride: 1 });

/** Rows evaluated at once by `accuracy` (the book's batch_size = 100): bounds im2col's buffer. */
const EVAL_CHUNK = 100;

/**
 * The book's SimpleConvNet (ch07/simple_convnet.py):
 *   Conv1 → Relu1 → Pool1 (2×2, stride 2) → Affine1 → Relu2 → Affine2 → SoftmaxWithLoss.
 *
 * Input is images (N, C, H, W), or rows of pixels (N, C·H·W) as `toLabeledData` gives them,
 * seen as (N, C, H, W) without a copy.
 *
 * @example
 * const net = new SimpleConvNet([1, 28, 28], { filterNum: 30, filterSize: 5 }, 100, 10, 0.01, { seed: 1 });
 * const grads = net.gradient(xBatch, tBatch);   // xBatch: (100, 784) or (100, 1, 28, 28)
 * for (const key of SimpleConvNet.paramNames) axpyInto(-0.1, grads[key], net.params[key]);
 */
export class SimpleConvNet {
  /** The parameter names, in the book's order. */
  static readonly paramNames = ['W1', 'b1', 'W2', 'b2', 'W3', 'b3'] as const;

  /** One input image as (C, H, W). */
  readonly inputDim: readonly [number, number, number];
  /** The convolution's settings, defaults filled in. */
  readonly convParam: Readonly<ConvParam>;
  /** W1 b1 W2 b2 W3 b3: the tensors the layers use. */
  readonly params: SimpleConvParams;
  /** The book's OrderedDict of layers: Conv1 → Relu1 → Pool1 → Affine1 → Relu2 → Affine2. */
  readonly layers: { Conv1: Convolution; Relu1: Relu; Pool1: Pooling; Affine1: Affine; Relu2: Relu; Affine2: Affine };
  /** The loss layer; its `loss` is the last forward pass's. */
  readonly lastLayer = new SoftmaxWithLoss();
  /** gradient() draws no random numbers (see TrainerNetwork.drawsRandom). */
  readonly drawsRandom = false;
  private inputView: Tensor | null = null;
  private readonly evaluator = new ChunkedAccuracy(EVAL_CHUNK);

  /**
   * @param inputDim One image as (C, H, W) ([1, 28, 28]).
   * @param convParam Filters, their size, padding and stride (CONV_PARAM_DEFAULTS).
   * @param hiddenSize Units of the hidden affine layer (100).
   * @param outputSize Classes (10).
   * @param weightInitStd W = weightInitStd · randn(…), b = 0 (0.01).
   * @param options The generator, dtype and backend.
   */
  constructor(
    inputDim: readonly number[] = [1, 28, 28],
    convParam: Partial<ConvParam> = {},
    readonly hiddenSize = 100,
    readonly outputSize = 10,
    readonly weightInitStd = 0.01,
    options: SimpleConvNetOptions = {},
  ) {
    if (!(inputDim.length === 3 && inputDim.every((d) => Number.isInteger(d) && d > 0))) {
      throw new RangeError(`SimpleConvNet: inputDim must be three whole numbers > 0 (C, H, W), got ${fmtShape(inputDim)}`);
    }
    const cp = { ...CONV_PARAM_DEFAULTS, ...convParam };
    for (const [name, v, min] of [
      ['convParam.filterNum', cp.filterNum, 1], ['convParam.filterSize', cp.filterSize, 1],
      ['convParam.pad', cp.pad, 0], ['convParam.stride', cp.stride, 1],
      ['hiddenSize', hiddenSize, 1], ['outputSize', outputSize, 1],
    ] as const) {
      if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`SimpleConvNet: ${name} must be a whole number ≥ ${min}, got ${v}`);
    }
    if (!(weightInitStd > 0 && Number.isFinite(weightInitStd))) {
      throw new RangeError(`SimpleConvNet: weightInitStd must be a finite number > 0, got ${weightInitStd}`);
    }
    const [C, H, W] = inputDim;
    this.inputDim = [C, H, W];
    this.convParam = Object.freeze(cp);
    // conv_output_size = (input_size − filter_size + 2·pad) // stride + 1; the 2×2 pooling with
    // stride 2 floors its half, as Pooling does (the book's filter_num·(conv_output_size/2)², for even sizes)
    const convH = convOutputSize(H, cp.filterSize, cp.stride, cp.pad, 'SimpleConvNet (height)');
    const convW = convOutputSize(W, cp.filterSize, cp.stride, cp.pad, 'SimpleConvNet (width)');
    const poolH = convOutputSize(convH, 2, 2, 0, 'SimpleConvNet (pooled height)');
    const poolW = convOutputSize(convW, 2, 2, 0, 'SimpleConvNet (pooled width)');
    const poolOutputSize = cp.filterNum * poolH * poolW;

    const rng = options.rng ?? new Random(options.seed ?? 0);
    const opts = { dtype: options.dtype ?? 'float32', backend: options.backend };
    // W = weight_init_std · randn(...), b = 0
    const randn = (shape: number[]): Tensor => {
      const t = Tensor.zeros(shape, opts);
      const d = t.data;
      for (let i = 0; i < d.length; i++) d[i] = weightInitStd * rng.normal();
      return t;
    };
    this.params = {
      W1: randn([cp.filterNum, C, cp.filterSize, cp.filterSize]),
      b1: Tensor.zeros([cp.filterNum], opts),
      W2: randn([poolOutputSize, hiddenSize]),
      b2: Tensor.zeros([hiddenSize], opts),
      W3: randn([hiddenSize, outputSize]),
      b3: Tensor.zeros([outputSize], opts),
    };
    const p = this.params;
    this.layers = {
      Conv1: new Convolution(p.W1, p.b1, cp.stride, cp.pad),
      Relu1: new Relu(),
      Pool1: new Pooling(2, 2, 2),
      Affine1: new Affine(p.W2, p.b2),
      Relu2: new Relu(),
      Affine2: new Affine(p.W3, p.b3),
    };
  }

  /** The dtype of the parameters. */
  get dtype(): DType {
    return this.params.W1.dtype;
  }

  /** The raw scores (before softmax) for a batch. The result is reused by the next call. */
  predict(x: Tensor): Tensor {
    let out = this.images(x);
    for (const layer of Object.values(this.layers)) out = layer.forward(out);
    return out;
  }

  /** The loss for a batch: SoftmaxWithLoss(predict(x), t). */
  loss(x: Tensor, t: Targets): number {
    return this.lastLayer.forward(this.predict(x), t);
  }

  /** The fraction of rows whose highest score is the target class, evaluated 100 rows at a time. */
  accuracy(x: Tensor, t: Targets): number {
    if (!(x.shape[0] > 0)) throw new ShapeError('SimpleConvNet.accuracy: no rows given');
    this.images(x); // check the shape before any work
    return this.evaluator.measure(x, t, (batch) => this.predict(batch), 'SimpleConvNet.accuracy');
  }

  /**
   * Gradients by central differences, the slow check of `gradient` (use float64 and a small
   * net). Each parameter is nudged in place and the loss recomputed, as in the book.
   */
  numericalGradient(x: Tensor, t: Targets): SimpleConvParams {
    const lossW = (): number => this.loss(x, t);
    const grads = {} as SimpleConvParams;
    for (const key of SimpleConvNet.paramNames) grads[key] = numericalGradient(lossW, this.params[key]);
    return grads;
  }

  /**
   * Gradients by backpropagation: forward, then each layer's backward in reverse order.
   * The returned tensors belong to the layers and are overwritten by the next call.
   */
  gradient(x: Tensor, t: Targets): SimpleConvParams {
    const { Conv1, Relu1, Pool1, Affine1, Relu2, Affine2 } = this.layers;
    // forward, as loss(x, t), with Conv1 and Relu1, and Affine1 and Relu2, each in one fused
    // product, and the loss's backward computed with the softmax (the same numbers, bit for bit)
    const h = Affine1.forwardRelu(Pool1.forward(Conv1.forwardRelu(this.images(x), Relu1)), Relu2);
    this.lastLayer.forwardWithGradient(Affine2.forward(h), t);
    let dout = this.lastLayer.backward(1); // backward, dout = 1
    dout = Affine2.backwardRelu(dout, Relu2); // Affine2 then Relu2: the mask fused into dout · W3ᵀ
    dout = Affine1.backward(dout);
    dout = Pool1.backwardRelu(dout, Relu1); // Pool1 then Relu1: the mask fused into the scatter
    // The input gradient of the first layer is never used: skip its dcol product and col2im.
    Conv1.backward(dout, { inputGradient: false });
    return { W1: Conv1.dW!, b1: Conv1.db!, W2: Affine1.dW!, b2: Affine1.db!, W3: Affine2.dW!, b3: Affine2.db! };
  }

  /** x as (N, C, H, W): images as they are, rows of C·H·W pixels viewed as images. */
  private images(x: Tensor): Tensor {
    const [C, H, W] = this.inputDim;
    if (x.ndim === 4 && x.shape[1] === C && x.shape[2] === H && x.shape[3] === W) return x;
    if (x.ndim === 2 && x.shape[1] === C * H * W) {
      this.inputView = reuseView(this.inputView, x, [x.shape[0], C, H, W]);
      return this.inputView;
    }
    throw new ShapeError(
      `SimpleConvNet: input shape ${fmtShape(x.shape)} does not match inputDim ${fmtShape(this.inputDim)} ` +
        `(expected [N,${C},${H},${W}] or [N,${C * H * W}])`,
    );
  }
}
