import { Tensor } from '../tensor/Tensor.js';
import { ChunkedAccuracy } from './ChunkedAccuracy.js';
import { axpyInto, matmulFused } from '../tensor/ops.js';
import { Affine } from '../layers/Affine.js';
import { copyInto, sumOfSquares } from '../tensor/elementwise.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import { SoftmaxWithLoss } from '../layers/SoftmaxWithLoss.js';
import { numericalGradient } from '../functions/numericalGradient.js';
import type { Targets } from '../functions/targets.js';
import type { Random, RandomState } from '../random.js';
import type { NamedTensors } from '../optimizers/Optimizer.js';


/**
 * A layer a Sequential can hold: the book's `forward`/`backward`, with two optional extras
 * that layers without them simply ignore: the train flag (Dropout, BatchNormalization) and
 * `{ inputGradient: false }` (Affine skips dx when it is the first layer with parameters).
 */
export interface SequentialLayer {
  /** The output for input x; `train` false for inference (Dropout, BatchNormalization). */
  forward(x: Tensor, train?: boolean): Tensor;
  /** dx from dout, storing the parameters' gradients; with `inputGradient: false` a layer may skip dx. */
  backward(dout: Tensor, options?: { inputGradient: boolean }): Tensor | null;
  /**
   * The properties holding its parameters, each with its gradient at `d` + name after backward
   * (W → dW). Default: whichever of W, b, gamma, beta the layer has (the book's names).
   */
  readonly paramNames?: readonly string[];
  /** The properties holding non-parameter state to save. Default: whichever of runningMean, runningVar it has. */
  readonly bufferNames?: readonly string[];
  /** The generator it draws from (Dropout's masks); its state is part of the network's state. */
  readonly rng?: Random;
}

/** The loss at the end of the network (SoftmaxWithLoss by default). */
export interface LossLayer {
  /** The loss of the last forward pass. */
  readonly loss: number | null;
  /** The loss of scores x against targets t (labels or one-hot rows). */
  forward(x: Tensor, t: Targets): number;
  /** ∂L/∂x, with dout = 1 for the last layer. */
  backward(dout?: number): Tensor;
}

/**
 * How parameters are named. 'book' (default) numbers each property name over the layers that
 * have it, which gives the book's names: W1 b1 (first Affine or Convolution), gamma1 beta1
 * (first BatchNormalization), W2 b2, …, as in MultiLayerNetExtend and SimpleConvNet; adding or
 * removing layers without parameters (Relu, Dropout, Pooling) leaves the names unchanged.
 * 'index' prefixes the layer's position, `0.W`, `0.b`, `1.gamma`, … (PyTorch's style):
 * unambiguous for any mix of layers and property names, but shifted by every inserted layer.
 * Buffers are named the same way (runningMean1 or `1.runningMean`); generators as rng1 or `2.rng`.
 */
export type ParamNaming = 'book' | 'index';

/** The loss layer, weight decay and parameter naming of a Sequential. */
export interface SequentialOptions {
  /** SoftmaxWithLoss if not given. */
  lastLayer?: LossLayer;
  /** L2 weight decay λ on every parameter named W: loss += ½λ Σ‖W‖², dW += λW (0). */
  weightDecayLambda?: number;
  /** How parameters are named: 'book' (W1 b1 gamma1 …, default) or 'index' (0.W 0.b …). */
  names?: ParamNaming;
}

/** Everything of a network's state besides its layout: copies of parameters and buffers, and generator states. */
export interface NetworkState {
  /** Copies of the parameters, by name. */
  params: NamedTensors;
  /** Copies of the buffers (running statistics), by name. */
  buffers: NamedTensors;
  /** The states of the layers' generators (Dropout), by layer. */
  random: Record<string, RandomState>;
}

const DEFAULT_PARAMS = ['W', 'b', 'gamma', 'beta'] as const;
const DEFAULT_BUFFERS = ['runningMean', 'runningVar'] as const;
/** Rows evaluated at once by `accuracy`. */
const EVAL_CHUNK = 1000;

interface Entry {
  name: string;
  layer: SequentialLayer;
  index: number;
  prop: string;
}

/**
 * A network made of any layers in order, then a loss layer: Affine, Relu, Sigmoid, Tanh,
 * Dropout, BatchNormalization, and any layer with the same forward/backward (convolution,
 * pooling). Parameters are found on the layers by the book's property names and exposed by
 * name (see ParamNaming), sharing their tensors with the layers, as the book's `params` do.
 *
 * @example
 * const rng = new Random(0);
 * const net = new Sequential([
 *   new Affine(initWeight([784, 100], 'he', rng), Tensor.zeros([100])),
 *   new BatchNormalization(Tensor.from(new Array(100).fill(1)), Tensor.zeros([100])),
 *   new Relu(),
 *   new Dropout(0.2, rng),
 *   new Affine(initWeight([100, 10], 'he', rng), Tensor.zeros([10])),
 * ]);
 * Object.keys(net.params);   // ['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2']
 * const grads = net.gradient(xBatch, tBatch);
 * new Adam().update(net.params, grads);
 */
export class Sequential {
  /** The layers, in forward order. */
  readonly layers: readonly SequentialLayer[];
  /** The loss layer (SoftmaxWithLoss by default). */
  readonly lastLayer: LossLayer;
  /** L2 weight decay λ on every W. */
  readonly weightDecayLambda: number;
  /** The parameters by name; the same tensors the layers use. */
  readonly params: NamedTensors = {};
  /** Non-parameter state (BatchNormalization's running mean and variance) by name: save these with the params. */
  readonly buffers: NamedTensors = {};
  /** The loss of the last forward pass with targets, weight decay included. */
  lastLoss: number | null = null;
  private readonly paramEntries: Entry[] = [];
  private readonly bufferEntries: Entry[] = [];
  private readonly generators: [string, Random][] = [];
  /** Backward stops at the first layer with parameters, which skips its input gradient. */
  private readonly firstParamLayer: number;
  private readonly evaluator = new ChunkedAccuracy(EVAL_CHUNK);
  /** The first Affine's output on accuracy's path (see infer). */
  private firstOut: Tensor | null = null;

  constructor(layers: readonly SequentialLayer[], options: SequentialOptions = {}) {
    if (layers.length === 0) throw new RangeError('Sequential: give at least one layer');
    const lambda = options.weightDecayLambda ?? 0;
    if (!(lambda >= 0 && Number.isFinite(lambda))) throw new RangeError(`Sequential: weightDecayLambda must be a finite number ≥ 0, got ${lambda}`);
    this.layers = [...layers];
    // a first Affine's input is the data (images): its products with x may skip zero pixels (same numbers)
    if (this.layers[0] instanceof Affine) this.layers[0].sparseInput = true;
    this.lastLayer = options.lastLayer ?? new SoftmaxWithLoss();
    this.weightDecayLambda = lambda;
    const naming = options.names ?? 'book';
    if (naming !== 'book' && naming !== 'index') throw new RangeError(`Sequential: names must be 'book' or 'index', got '${String(naming)}'`);

    const counts = new Map<string, number>();
    const nameOf = (prop: string, index: number): string => {
      if (naming === 'index') return `${index}.${prop}`;
      const k = (counts.get(prop) ?? 0) + 1;
      counts.set(prop, k);
      return `${prop}${k}`;
    };
    const tensorProps = (layer: SequentialLayer, names: readonly string[] | undefined, defaults: readonly string[], what: string, index: number): readonly string[] => {
      const props = names ?? defaults.filter((p) => prop(layer, p) instanceof Tensor);
      for (const p of props) {
        if (!(prop(layer, p) instanceof Tensor)) throw new TypeError(`Sequential: layer ${index} (${layerName(layer)}) lists the ${what} '${p}' but has no tensor there`);
      }
      return props;
    };
    let first = -1;
    this.layers.forEach((layer, index) => {
      for (const p of tensorProps(layer, layer.paramNames, DEFAULT_PARAMS, 'parameter', index)) {
        const entry = { name: nameOf(p, index), layer, index, prop: p };
        this.paramEntries.push(entry);
        this.params[entry.name] = prop(layer, p) as Tensor;
        if (first < 0) first = index;
      }
      for (const p of tensorProps(layer, layer.bufferNames, DEFAULT_BUFFERS, 'buffer', index)) {
        const entry = { name: nameOf(p, index), layer, index, prop: p };
        this.bufferEntries.push(entry);
        this.buffers[entry.name] = prop(layer, p) as Tensor;
      }
      const rng = layer.rng;
      if (rng && typeof rng.getState === 'function') this.generators.push([nameOf('rng', index), rng]);
    });
    this.firstParamLayer = first;
  }

  /** The output before the loss (raw scores). `train` switches Dropout and BatchNormalization to training behaviour. */
  predict(x: Tensor, train = false): Tensor {
    let out = x;
    for (const layer of this.layers) out = layer.forward(out, train);
    return out;
  }

  /**
   * The loss for a batch, weight decay included: L + ½λ Σ‖W‖². Inference by default, as the
   * book's `loss(x, t, train_flg=False)`: a bare call draws no dropout mask and leaves the batch
   * norm running statistics alone. `gradient` and `numericalGradient` pass `train = true`.
   */
  loss(x: Tensor, t: Targets, train = false): number {
    let loss = this.lastLayer.forward(this.predict(x, train), t);
    if (this.weightDecayLambda > 0) {
      let squares = 0;
      for (const e of this.paramEntries) if (e.prop === 'W') squares += sumOfSquares(this.params[e.name]);
      loss += 0.5 * this.weightDecayLambda * squares; // weight_decay = ½λ Σ‖W‖²
    }
    this.lastLoss = loss;
    return loss;
  }

  /** The fraction of rows whose highest score is the target class, in inference mode, over any number of rows. */
  accuracy(x: Tensor, t: Targets): number {
    const rows = x.ndim < 2 ? 0 : x.shape[0];
    if (rows === 0) throw new ShapeError(`accuracy: expected a batch of at least one row, got shape ${fmtShape(x.shape)}`);
    return this.evaluator.measure(x, t, (batch) => this.infer(batch), 'accuracy');
  }

  /**
   * predict(x) in inference mode, for accuracy: a first Affine's x · W + b is the same fused
   * product as its forward, told that x (images) may have many zeros to skip (which changes no
   * sum); the other layers run as in predict.
   */
  private infer(x: Tensor): Tensor {
    const [first, ...rest] = this.layers;
    let out: Tensor;
    if (first instanceof Affine && x.ndim === 2 && x.shape[1] === first.W.shape[0]) {
      out = this.firstOut = matmulFused(x, first.W, { bias: first.b, sparseA: true, out: this.firstOut });
    } else {
      out = first.forward(x, false);
    }
    for (const layer of rest) out = layer.forward(out, false);
    return out;
  }

  /**
   * Gradients by central differences (use float64), each parameter nudged in place and the
   * training loss recomputed, as the book's numerical_gradient. Fix Dropout masks first
   * (`fixedMask`): a new mask per evaluation would make the loss random. The buffers (running
   * statistics), which every training pass moves, are put back afterwards.
   */
  numericalGradient(x: Tensor, t: Targets): NamedTensors {
    const saved = Object.values(this.buffers).map((b) => [b, b.clone()] as const);
    const grads: NamedTensors = {};
    for (const [name, W] of Object.entries(this.params)) grads[name] = numericalGradient(() => this.loss(x, t, true), W);
    for (const [b, copy] of saved) copyInto(copy, b);
    return grads;
  }

  /**
   * Gradients by backpropagation: a training forward pass, then each layer's backward in
   * reverse order, down to the first layer with parameters (its input gradient is skipped).
   * With weight decay, λW is added to each dW. The tensors belong to the layers and are
   * overwritten by the next call.
   */
  gradient(x: Tensor, t: Targets): NamedTensors {
    this.loss(x, t, true); // forward
    let dout: Tensor = this.lastLayer.backward(1); // backward, dout = 1
    const first = this.firstParamLayer;
    if (first >= 0) {
      for (let i = this.layers.length - 1; i > first; i--) {
        const dx = this.layers[i].backward(dout);
        if (!dx) throw new Error(`Sequential: layer ${i} (${layerName(this.layers[i])}) returned no input gradient`);
        dout = dx;
      }
      this.layers[first].backward(dout, { inputGradient: false });
    }
    const grads: NamedTensors = {};
    for (const e of this.paramEntries) {
      const g = prop(e.layer, `d${e.prop}`);
      if (!(g instanceof Tensor)) throw new Error(`Sequential: layer ${e.index} (${layerName(e.layer)}) has no gradient d${e.prop} after backward`);
      if (e.prop === 'W' && this.weightDecayLambda > 0) axpyInto(this.weightDecayLambda, this.params[e.name], g); // dW += λW
      grads[e.name] = g;
    }
    return grads;
  }

  /** Whether gradient() draws random numbers: a layer has a generator (Dropout). See TrainerNetwork.drawsRandom. */
  get drawsRandom(): boolean {
    return this.generators.length > 0;
  }

  /** Copies of the parameters and buffers, and the generators' states: a snapshot to save. */
  getState(): NetworkState {
    const copy = (src: NamedTensors): NamedTensors => Object.fromEntries(Object.entries(src).map(([k, t]) => [k, t.clone()]));
    return {
      params: copy(this.params),
      buffers: copy(this.buffers),
      random: Object.fromEntries(this.generators.map(([name, rng]) => [name, rng.getState()])),
    };
  }

  /** Continue from a snapshot: values are copied into the network's own tensors (any backend or dtype). */
  setState(state: NetworkState): void {
    restoreTensors('params', this.params, state.params);
    restoreTensors('buffers', this.buffers, state.buffers ?? {});
    const random = state.random ?? {};
    for (const [name] of this.generators) if (!random[name]) throw new RangeError(`setState: no state for the generator ${name}`);
    for (const [name, rng] of this.generators) rng.setState(random[name]);
  }
}

/** Copy saved tensors into a network's tensors of the same names and shapes. */
export function restoreTensors(what: string, target: NamedTensors, saved: NamedTensors): void {
  for (const name of Object.keys(target)) {
    if (!saved[name]) throw new RangeError(`setState: the saved ${what} lack '${name}' (saved: ${Object.keys(saved).join(', ') || 'none'})`);
  }
  for (const [name, t] of Object.entries(saved)) {
    const dst = target[name];
    if (!dst) throw new RangeError(`setState: the saved ${what} have '${name}', which this network does not (it has ${Object.keys(target).join(', ') || 'none'})`);
    if (!(t instanceof Tensor)) throw new TypeError(`setState: the saved ${what} '${name}' is not a Tensor`);
    if (t.ndim !== dst.ndim || t.shape.some((d, i) => d !== dst.shape[i])) {
      throw new ShapeError(`setState: the saved ${what} '${name}' has shape ${fmtShape(t.shape)} but the network's has ${fmtShape(dst.shape)}`);
    }
    copyInto(t, dst);
  }
}

function prop(layer: SequentialLayer, name: string): unknown {
  return (layer as unknown as Record<string, unknown>)[name];
}

function layerName(layer: SequentialLayer): string {
  return (layer as object).constructor?.name ?? 'layer';
}
