/**
 * A network lowered for export: the short list of inference operations that every exporter
 * (ONNX, TF.js) knows how to write, with the weights they need. The book's networks are lowered
 * layer by layer; a network of any other kind (an autograd model, say) can be exported by
 * lowering it to the same list. Inference rules are the book's: batch normalization uses the
 * running statistics, and dropout multiplies by (1 − ratio) (common/layers.py `Dropout.forward`
 * with train_flg=False).
 */
import type { Tensor } from '../tensor/Tensor.js';
import { fmtShape } from '../tensor/ShapeError.js';
import { Affine } from '../layers/Affine.js';
import { BatchNormalization } from '../layers/BatchNormalization.js';
import { Convolution } from '../layers/Convolution.js';
import { Dropout } from '../layers/Dropout.js';
import { Flatten } from '../layers/Flatten.js';
import { Pooling } from '../layers/Pooling.js';
import { Relu } from '../layers/Relu.js';
import { Sigmoid } from '../layers/Sigmoid.js';
import { Tanh } from '../layers/Tanh.js';
import { MultiLayerNet } from '../nets/MultiLayerNet.js';
import { Sequential } from '../nets/Sequential.js';
import { SimpleConvNet } from '../nets/SimpleConvNet.js';
import { TwoLayerNet } from '../nets/TwoLayerNet.js';
import type { Network } from '../nets/buildNetwork.js';
import { Model } from '../autograd/Model.js';
import { lowerModel } from './lowerModel.js';

/** A named weight tensor of a lowered operation (named as the network names it: W1, gamma1, ...). */
export interface NamedWeight {
  /** The network's name for the tensor; exporters name the initializer or weight after it. */
  name: string;
  /** The tensor itself (the network's own, not a copy). */
  tensor: Tensor;
}

/** One inference operation; `name` is the book's layer name (Affine1, Relu1, BatchNorm1, ...). */
export type InferenceOp =
  /** y = x · W + b, W of shape (in, out); an input of higher rank is flattened first, as the book's Affine does. */
  | {
    /** The operation: a fully connected layer (the book's Affine). */
    op: 'Gemm';
    /** The layer's name (Affine1, ...). */
    name: string;
    /** The weights, shape (in, out). */
    W: NamedWeight;
    /** The bias, shape (out). */
    b: NamedWeight;
  }
  | {
    /** The operation: y = max(0, x), elementwise. */
    op: 'Relu';
    /** The layer's name (Relu1, ...; Activation_function1, ... in a MultiLayerNet). */
    name: string;
  }
  | {
    /** The operation: y = 1 / (1 + exp(−x)), elementwise. */
    op: 'Sigmoid';
    /** The layer's name (Sigmoid1, ...; Activation_function1, ... in a MultiLayerNet). */
    name: string;
  }
  | {
    /** The operation: y = tanh(x), elementwise. */
    op: 'Tanh';
    /** The layer's name (Tanh1, ...; Activation_function1, ... in a MultiLayerNet). */
    name: string;
  }
  /**
   * y = γ · (x − mean) / √(var + ε) + β, per feature, with the running statistics; after a
   * convolution each of the C·H·W values is a feature, as the book reshapes x to (N, −1).
   */
  | {
    /** The operation: batch normalization in inference mode. */
    op: 'BatchNormalization';
    /** The layer's name (BatchNorm1, ...). */
    name: string;
    /** The scale γ, one per feature. */
    gamma: NamedWeight;
    /** The shift β, one per feature. */
    beta: NamedWeight;
    /** The running mean, one per feature. */
    mean: NamedWeight;
    /** The running variance, one per feature. */
    variance: NamedWeight;
    /** ε, added to the variance before the square root. */
    epsilon: number;
  }
  /** y = x · factor: dropout at inference, factor = 1 − ratio. */
  | {
    /** The operation: multiplication by a constant. */
    op: 'Scale';
    /** The layer's name (Dropout1, ...). */
    name: string;
    /** The constant: 1 − the dropout ratio. */
    factor: number;
  }
  /** The book's Convolution: filters W (FN, C, FH, FW), bias b (FN), square stride and padding. */
  | {
    /** The operation: a 2-D convolution of (C, H, W) inputs. */
    op: 'Conv';
    /** The layer's name (Conv1, ...). */
    name: string;
    /** The filters, shape (FN, C, FH, FW). */
    W: NamedWeight;
    /** The bias, one per filter: shape (FN). */
    b: NamedWeight;
    /** The step between windows, in pixels, the same along height and width. */
    stride: number;
    /** Zeros added on every side, in pixels. */
    pad: number;
  }
  /** The book's Pooling: the maximum of each window, per channel. */
  | {
    /** The operation: max pooling of (C, H, W) inputs. */
    op: 'MaxPool';
    /** The layer's name (Pool1, ...). */
    name: string;
    /** The window, [height, width] in pixels. */
    kernel: [number, number];
    /** The step between windows, in pixels, the same along height and width. */
    stride: number;
    /** Zeros added on every side, in pixels. */
    pad: number;
  }
  /** (N, d1, d2, …) → (N, d1·d2·…), row-major. */
  | {
    /** The operation: flattening each example to a vector. */
    op: 'Flatten';
    /** The layer's name (Flatten1, ...). */
    name: string;
  };

/** The names of the operations exporters accept. */
export const INFERENCE_OPS = ['Gemm', 'Relu', 'Sigmoid', 'Tanh', 'BatchNormalization', 'Scale', 'Conv', 'MaxPool', 'Flatten'] as const;

/** A network as exporters see it: the input's shape without the batch dimension, and the operations in order. */
export interface InferenceGraph {
  /** The network's class, for the exported model's name: 'TwoLayerNet', 'MultiLayerNet', 'SimpleConvNet'. */
  name: string;
  /** Per example: [784], or [1, 28, 28] for images (C, H, W). */
  inputShape: number[];
  /** The operations in the order they run, the first applied to the input, the last giving the logits. */
  ops: InferenceOp[];
}

/** A network that cannot be exported, or an operation that does not map: the message names it. */
export class ExportError extends Error {
  /** 'ExportError', so messages and `error.name` say which error it is. */
  override name = 'ExportError';
}

/**
 * What can be lowered: the book's networks, a Sequential of the book's layers, an autograd
 * Model (such as AutogradTwoLayerNet; traced, see lowerModel.ts), or an already lowered graph.
 */
export type Exportable = Network | TwoLayerNet | SimpleConvNet | Sequential | Model | InferenceGraph;

/**
 * Lowers a network to inference operations, checking that every layer maps and that the shapes
 * agree, and computes each operation's output shape.
 *
 * @param options.inputShape the per-example input shape, needed for a Sequential that starts with a
 *   convolution and for an autograd Model (other than AutogradTwoLayerNet), whose forward is traced on it
 * @throws {ExportError} naming the first layer or operation that does not map
 *
 * @example
 * const graph = lowerNetwork(new TwoLayerNet(784, 50, 10));
 * graph.ops.map((o) => o.op);   // ['Gemm', 'Relu', 'Gemm']
 * lowerNetwork(autogradModel, { inputShape: [784] }); // traces one forward pass
 */
export function lowerNetwork(net: Exportable, options: { inputShape?: number[] } = {}): InferenceGraph {
  const graph = lower(net, options.inputShape);
  shapesOf(graph);
  return graph;
}

function lower(net: Exportable, inputShape?: number[]): InferenceGraph {
  if (net instanceof TwoLayerNet) {
    const { Affine1, Affine2 } = net.layers;
    return {
      name: 'TwoLayerNet',
      inputShape: inputShape ?? [net.inputSize],
      ops: [
        { op: 'Gemm', name: 'Affine1', W: { name: 'W1', tensor: Affine1.W }, b: { name: 'b1', tensor: Affine1.b } },
        { op: 'Relu', name: 'Relu1' },
        { op: 'Gemm', name: 'Affine2', W: { name: 'W2', tensor: Affine2.W }, b: { name: 'b2', tensor: Affine2.b } },
      ],
    };
  }
  if (net instanceof SimpleConvNet) {
    const { Conv1, Pool1, Affine1, Affine2 } = net.layers;
    return {
      name: 'SimpleConvNet',
      inputShape: inputShape ?? [...net.inputDim],
      ops: [
        { op: 'Conv', name: 'Conv1', W: { name: 'W1', tensor: Conv1.W }, b: { name: 'b1', tensor: Conv1.b }, stride: Conv1.stride, pad: Conv1.pad },
        { op: 'Relu', name: 'Relu1' },
        { op: 'MaxPool', name: 'Pool1', kernel: [Pool1.poolH, Pool1.poolW], stride: Pool1.stride, pad: Pool1.pad },
        { op: 'Flatten', name: 'Flatten1' },
        { op: 'Gemm', name: 'Affine1', W: { name: 'W2', tensor: Affine1.W }, b: { name: 'b2', tensor: Affine1.b } },
        { op: 'Relu', name: 'Relu2' },
        { op: 'Gemm', name: 'Affine2', W: { name: 'W3', tensor: Affine2.W }, b: { name: 'b3', tensor: Affine2.b } },
      ],
    };
  }
  if (net instanceof Sequential) return lowerSequential(net, inputShape);
  if (net instanceof Model) return lowerModel(net, inputShape);
  if (isGraph(net)) {
    net.ops.forEach((o, i) => {
      if (!(INFERENCE_OPS as readonly string[]).includes(o.op)) {
        throw new ExportError(`operation ${i} (${o.name ?? 'unnamed'}) is '${o.op}', which has no ONNX or TF.js mapping here (supported: ${INFERENCE_OPS.join(', ')})`);
      }
    });
    return { name: net.name, inputShape: inputShape ?? net.inputShape, ops: net.ops };
  }
  const kind = (net as object)?.constructor?.name ?? typeof net;
  throw new ExportError(`cannot export a ${kind}: expected a TwoLayerNet, MultiLayerNet, SimpleConvNet, Sequential, autograd Model or a lowered InferenceGraph`);
}

function isGraph(x: unknown): x is InferenceGraph {
  const g = x as InferenceGraph;
  return typeof g === 'object' && g !== null && Array.isArray(g.ops) && Array.isArray(g.inputShape);
}

/** The layers of a Sequential, by the book's layer names (MultiLayerNet's namedLayers, or Class + count). */
function lowerSequential(net: Sequential, inputShape?: number[]): InferenceGraph {
  const nameOfTensor = new Map<Tensor, string>();
  for (const [name, t] of Object.entries(net.params)) nameOfTensor.set(t, name);
  for (const [name, t] of Object.entries(net.buffers)) nameOfTensor.set(t, name);
  const weight = (t: Tensor, fallback: string): NamedWeight => ({ name: nameOfTensor.get(t) ?? fallback, tensor: t });
  const layerNames = new Map<unknown, string>();
  if (net instanceof MultiLayerNet) for (const [name, layer] of Object.entries(net.namedLayers)) layerNames.set(layer, name);
  const counts = new Map<string, number>();

  const ops: InferenceOp[] = net.layers.map((layer, i): InferenceOp => {
    const kind = (layer as object).constructor?.name ?? 'layer';
    const k = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, k);
    const name = layerNames.get(layer) ?? `${kind}${k}`;
    if (layer instanceof Affine) return { op: 'Gemm', name, W: weight(layer.W, `${name}.W`), b: weight(layer.b, `${name}.b`) };
    if (layer instanceof Relu) return { op: 'Relu', name };
    if (layer instanceof Sigmoid) return { op: 'Sigmoid', name };
    if (layer instanceof Tanh) return { op: 'Tanh', name };
    if (layer instanceof Dropout) return { op: 'Scale', name, factor: 1 - layer.dropoutRatio };
    if (layer instanceof BatchNormalization) {
      return {
        op: 'BatchNormalization', name, epsilon: layer.eps,
        gamma: weight(layer.gamma, `${name}.gamma`), beta: weight(layer.beta, `${name}.beta`),
        mean: weight(layer.runningMean, `${name}.runningMean`), variance: weight(layer.runningVar, `${name}.runningVar`),
      };
    }
    if (layer instanceof Convolution) return { op: 'Conv', name, W: weight(layer.W, `${name}.W`), b: weight(layer.b, `${name}.b`), stride: layer.stride, pad: layer.pad };
    if (layer instanceof Pooling) return { op: 'MaxPool', name, kernel: [layer.poolH, layer.poolW], stride: layer.stride, pad: layer.pad };
    if (layer instanceof Flatten) return { op: 'Flatten', name };
    throw new ExportError(`layer ${i} (${kind}) has no ONNX or TF.js mapping here (supported layers: Affine, Relu, Sigmoid, Tanh, BatchNormalization, Dropout, Convolution, Pooling, Flatten)`);
  });
  const first = ops[0];
  let shape = inputShape;
  if (!shape) {
    if (first.op !== 'Gemm') throw new ExportError(`the first layer is ${first.name} (${first.op}): give the input shape (inputShape, e.g. [1, 28, 28])`);
    shape = [first.W.tensor.shape[0]];
  }
  return { name: net instanceof MultiLayerNet ? 'MultiLayerNet' : 'Sequential', inputShape: shape, ops };
}

/**
 * Every operation's output shape per example (without the batch dimension), checking that each
 * operation fits its input: the last is the logits' [classes].
 * @throws {ExportError} naming the operation whose shapes disagree
 */
export function shapesOf(graph: InferenceGraph): number[][] {
  let shape = [...graph.inputShape];
  if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ExportError(`the input shape ${fmtShape(shape)} is not a list of whole numbers > 0`);
  }
  const out: number[][] = [];
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  const bad = (o: InferenceOp, why: string): never => {
    throw new ExportError(`${o.name} (${o.op}): ${why}`);
  };
  for (const o of graph.ops) {
    switch (o.op) {
      case 'Gemm': {
        const [k, n] = o.W.tensor.shape;
        if (o.W.tensor.ndim !== 2 || o.b.tensor.size !== n) bad(o, `W ${fmtShape(o.W.tensor.shape)} and b ${fmtShape(o.b.tensor.shape)} are not (in, out) and (out)`);
        if (size(shape) !== k) bad(o, `input has ${size(shape)} features per example (shape ${fmtShape(shape)}) but W expects ${k}`);
        shape = [n];
        break;
      }
      case 'BatchNormalization':
        // after a convolution the book normalizes each of the C·H·W features (x.reshape(N, −1))
        for (const w of [o.gamma, o.beta, o.mean, o.variance]) if (w.tensor.size !== size(shape)) bad(o, `${w.name} has ${w.tensor.size} elements for ${size(shape)} features (input shape ${fmtShape(shape)} per example)`);
        break;
      case 'Conv': {
        const [fn, c, fh, fw] = o.W.tensor.shape;
        if (shape.length !== 3) bad(o, `expects (C, H, W) per example, got ${fmtShape(shape)}`);
        if (o.W.tensor.ndim !== 4 || c !== shape[0] || o.b.tensor.size !== fn) bad(o, `filters ${fmtShape(o.W.tensor.shape)} do not fit input ${fmtShape(shape)} and bias ${fmtShape(o.b.tensor.shape)}`);
        shape = [fn, outSize(shape[1], fh, o.stride, o.pad, o), outSize(shape[2], fw, o.stride, o.pad, o)];
        break;
      }
      case 'MaxPool':
        if (shape.length !== 3) bad(o, `expects (C, H, W) per example, got ${fmtShape(shape)}`);
        shape = [shape[0], outSize(shape[1], o.kernel[0], o.stride, o.pad, o), outSize(shape[2], o.kernel[1], o.stride, o.pad, o)];
        break;
      case 'Flatten':
        shape = [size(shape)];
        break;
      case 'Scale':
        if (!Number.isFinite(o.factor)) bad(o, `factor ${o.factor} is not a finite number`);
        break;
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        break;
      default:
        throw new ExportError(`operation '${(o as { op: string }).op}' has no ONNX or TF.js mapping here (supported: ${INFERENCE_OPS.join(', ')})`);
    }
    out.push(shape);
  }
  if (shape.length !== 1) throw new ExportError(`the last operation gives shape ${fmtShape(shape)} per example, not a vector of class scores`);
  return out;
}

/**
 * ⌊(size + 2·pad − kernel) / stride⌋ + 1, as the layers compute it (src/kernels/conv.ts): a
 * last partial window is dropped, which is also ONNX's and Keras's rule ('valid', ceil_mode 0).
 */
function outSize(n: number, kernel: number, stride: number, pad: number, o: InferenceOp): number {
  const span = n + 2 * pad - kernel;
  if (span < 0) throw new ExportError(`${o.name} (${o.op}): a window of ${kernel} is larger than a side of ${n} padded by ${pad}`);
  return Math.floor(span / stride) + 1;
}
