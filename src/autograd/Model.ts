import type { Backend, DType } from '../kernels/Backend.js';
import { Tensor } from '../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { NamedTensors } from '../optimizers/Optimizer.js';
import { Random } from '../random.js';
import { Parameter, type Variable, type VariableLike } from './Variable.js';
import { linear } from './functions/matmul.js';
import { conv2d } from './functions/conv.js';

/**
 * A network built from autograd operations (DeZero's Model/Layer): `forward` computes the
 * output; `params()` collects every Parameter held by the model or by the models in its
 * fields, by name (its own `name`, such as the book's W1, or else the field path `fc1.W`).
 * Feed the optimizers of src/optimizers/ with `paramTensors()` and `gradTensors()`.
 *
 * @example
 * class Net extends Model {
 *   fc1 = new Linear(784, 50, { names: ['W1', 'b1'] });
 *   fc2 = new Linear(50, 10, { names: ['W2', 'b2'] });
 *   forward(x: VariableLike) { return this.fc2.forward(F.relu(this.fc1.forward(x))); }
 * }
 * const net = new Net();
 * F.softmaxCrossEntropy(net.forward(x), t).backward();
 * new SGD({ lr: 0.1 }).update(net.paramTensors(), net.gradTensors());
 */
export abstract class Model {
  /** The output for the inputs. */
  abstract forward(...inputs: VariableLike[]): Variable;

  declare private paramCache: Record<string, Parameter> | undefined;

  /**
   * Every parameter, by name, in field order. Two parameters with one name are an error. They
   * are collected at the first call (so make them in the constructor) and kept.
   */
  params(): Record<string, Parameter> {
    if (this.paramCache) return this.paramCache;
    const out: Record<string, Parameter> = {};
    const visit = (m: Model, prefix: string, seen: Set<Model>): void => {
      if (seen.has(m)) return;
      seen.add(m);
      for (const [key, value] of Object.entries(m)) {
        if (value instanceof Parameter) {
          const name = value.name ?? `${prefix}${key}`;
          if (Object.hasOwn(out, name) && out[name] !== value) throw new ShapeError(`Model.params: two parameters are named '${name}'`);
          out[name] = value;
        } else if (value instanceof Model) {
          visit(value, `${prefix}${key}.`, seen);
        }
      }
    };
    visit(this, '', new Set());
    Object.defineProperty(this, 'paramCache', { value: Object.freeze(out), enumerable: false, writable: true });
    return out;
  }

  /** The parameters' tensors by name: what `optimizer.update` moves in place. */
  paramTensors(): NamedTensors {
    const out: NamedTensors = {};
    for (const [k, p] of Object.entries(this.params())) out[k] = p.data;
    return out;
  }

  /** The parameters' gradients by name, after backward; a parameter without one is an error naming it. */
  gradTensors(): NamedTensors {
    const out: NamedTensors = {};
    for (const [k, p] of Object.entries(this.params())) {
      if (!p.grad) throw new ShapeError(`Model.gradTensors: parameter '${k}' has no gradient: it was not used in the last backward (call cleargrads before each step, backward after the loss)`);
      out[k] = p.grad.data;
    }
    return out;
  }

  /**
   * Forget every parameter's gradient (before the next backward, which would add to them), and
   * hand the last step's storage on to the next: the intermediate results of the graph the last
   * backward ran through (not its final output, the loss, which stays readable) are pooled for
   * the next step's operations to write into (on the wasm backend; see pool.ts), and each
   * gradient's storage is kept for the next backward to write the new gradient into. So a
   * training step allocates nothing after warm-up. Using an intermediate variable of the last
   * step in an operation afterwards is an error that says so; its data, and a gradient tensor
   * kept from the last step, are overwritten by the next.
   */
  cleargrads(): void {
    for (const p of Object.values(this.params())) p.cleargrad();
  }
}

/** How a Linear or Conv2d layer makes its parameters. */
export interface ParamOptions {
  /** Names for the weight and bias (default: the field path, `fc1.W` and `fc1.b`). */
  names?: [weight: string, bias: string];
  /** Initial weights: a tensor (copied), or the std of a normal draw (default √(1/fan-in), DeZero's). */
  W?: Tensor;
  /** The std of the normal draw of W when none is given (default √(1/fan-in)). */
  weightInitStd?: number;
  /** Initial bias (copied; default 0). */
  b?: Tensor;
  /** No bias. */
  nobias?: boolean;
  /** The generator of the initial weights (default: a new one seeded 0). */
  rng?: Random;
  /** 'float32' (default, or W's) or 'float64'. */
  dtype?: DType;
  /** Where the parameters live (default: the current backend, or W's). */
  backend?: Backend;
}

function makeParams(shapeW: number[], fanIn: number, biasSize: number, o: ParamOptions, who: string): { W: Parameter; b: Parameter | null } {
  const tensorOpts = { dtype: o.dtype ?? o.W?.dtype ?? 'float32', backend: o.backend ?? o.W?.backend };
  let W: Tensor;
  if (o.W) {
    if (o.W.shape.join() !== shapeW.join()) throw new ShapeError(`${who}: W has shape ${fmtShape(o.W.shape)}, expected ${fmtShape(shapeW)}`);
    W = o.W.clone(tensorOpts);
  } else {
    W = Tensor.zeros(shapeW, tensorOpts);
    const rng = o.rng ?? new Random(0);
    const std = o.weightInitStd ?? Math.sqrt(1 / fanIn);
    const d = W.data;
    for (let i = 0; i < d.length; i++) d[i] = std * rng.normal(); // W = std · randn(...)
  }
  let b: Tensor | null = null;
  if (!o.nobias) {
    if (o.b && o.b.size !== biasSize) throw new ShapeError(`${who}: b has shape ${fmtShape(o.b.shape)}, expected [${biasSize}]`);
    b = o.b ? o.b.clone(tensorOpts).reshape([biasSize]) : Tensor.zeros([biasSize], tensorOpts);
  }
  const [wName, bName] = o.names ?? [];
  return { W: new Parameter(W, { name: wName }), b: b && new Parameter(b, { name: bName }) };
}

/**
 * A fully connected layer, x · W + b (the book's Affine), with W (inSize, outSize) and b (outSize,).
 *
 * @example const fc = new Linear(784, 50, { names: ['W1', 'b1'], weightInitStd: 0.01 });
 */
export class Linear extends Model {
  /** The weights, (inSize, outSize). */
  readonly W: Parameter;
  /** The bias, (outSize,), or null with `nobias`. */
  readonly b: Parameter | null;

  constructor(
    /** Features of each input row. */
    readonly inSize: number,
    /** Features of each output row. */
    readonly outSize: number,
    options: ParamOptions = {},
  ) {
    super();
    ({ W: this.W, b: this.b } = makeParams([inSize, outSize], inSize, outSize, options, 'Linear'));
  }

  /** x · W + b. */
  forward(x: VariableLike): Variable {
    return linear(x, this.W, this.b);
  }
}

/**
 * A convolution layer (the book's Convolution): filters W (outChannels, inChannels, kernel, kernel), bias (outChannels,).
 *
 * @example const conv = new Conv2d(1, 30, 5, { stride: 1, pad: 0 });
 */
export class Conv2d extends Model {
  /** The filters, (outChannels, inChannels, kernel, kernel). */
  readonly W: Parameter;
  /** The bias, (outChannels,), or null with `nobias`. */
  readonly b: Parameter | null;
  /** How far the windows move (1). */
  readonly stride: number;
  /** Zeros added around the input (0). */
  readonly pad: number;

  constructor(inChannels: number, outChannels: number, kernel: number, options: ParamOptions & { stride?: number; pad?: number } = {}) {
    super();
    ({ W: this.W, b: this.b } = makeParams([outChannels, inChannels, kernel, kernel], inChannels * kernel * kernel, outChannels, options, 'Conv2d'));
    this.stride = options.stride ?? 1;
    this.pad = options.pad ?? 0;
  }

  /** The convolution of x (N, C, H, W) with the filters, plus the bias. */
  forward(x: VariableLike): Variable {
    return conv2d(x, this.W, this.b, this.stride, this.pad);
  }
}
