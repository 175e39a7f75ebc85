import type { Backend, DType } from '../kernels/Backend.js';
import type { Tensor } from '../tensor/Tensor.js';
import type { Random } from '../random.js';
import type { WeightInit } from '../layers/init.js';
import type { NamedTensors } from '../optimizers/Optimizer.js';
import type { TrainerNetwork } from '../train/Trainer.js';
import { TwoLayerNet } from './TwoLayerNet.js';
import { MultiLayerNet, type Activation } from './MultiLayerNet.js';
import { SimpleConvNet, CONV_PARAM_DEFAULTS, type ConvParam } from './SimpleConvNet.js';
import type { Dropout } from '../layers/Dropout.js';

/** The networks the CLI trains, saves and loads. */
export type ModelKind = 'two-layer' | 'mlp' | 'cnn';
/** Every ModelKind, for messages and checks. */
export const MODEL_KINDS: readonly ModelKind[] = ['two-layer', 'mlp', 'cnn'];

/** Everything needed to rebuild a network's architecture (its weights are stored apart). */
export interface ModelSpec {
  /** Which network: 'two-layer' (TwoLayerNet), 'mlp' (MultiLayerNet) or 'cnn' (SimpleConvNet). */
  model: ModelKind;
  /** Input features per row (784 for 28×28 images). */
  inputSize: number;
  /** Classes (10). */
  outputSize: number;
  /** Hidden layer sizes: [50] for the book's TwoLayerNet, [100] for SimpleConvNet's affine layer. */
  hidden: number[];
  /** Hidden activation (MultiLayerNet; the others use ReLU). */
  activation: Activation;
  /** A fixed std, or 'he'/'relu' (√(2/n)) or 'xavier'/'sigmoid' (√(1/n)); the CNN takes a number. */
  init: WeightInit;
  /** L2 weight decay λ (MultiLayerNet). */
  weightDecay: number;
  /** Dropout ratio after each hidden activation, 0 for none (MultiLayerNet). */
  dropout: number;
  /** Batch normalization before each hidden activation (MultiLayerNet). */
  batchNorm: boolean;
  /** 'float32' or 'float64'. */
  dtype: DType;
  /** The convolution of SimpleConvNet (CONV_PARAM_DEFAULTS if not given). */
  conv?: ConvParam;
  /** SimpleConvNet's input image as (C, H, W) ([1, 28, 28]). */
  inputDim?: [number, number, number];
}

/** A network built from a spec: trainable, and able to give raw scores for a batch. */
export interface Network extends TrainerNetwork {
  /** Raw scores (before softmax) for a batch. */
  predict(x: Tensor): Tensor;
  /** The parameters by name. */
  readonly params: NamedTensors;
}

/** Build the network a spec describes, drawing its initial weights from `rng`. */
export function buildNetwork(spec: ModelSpec, options: { rng: Random; backend?: Backend }): Network {
  const { rng, backend } = options;
  const common = { rng, backend, dtype: spec.dtype };
  switch (spec.model) {
    case 'two-layer': {
      if (spec.hidden.length !== 1) throw new RangeError(`two-layer: exactly one hidden size, got ${spec.hidden.length} (${spec.hidden.join(',')})`);
      if (typeof spec.init !== 'number') throw new RangeError(`two-layer: the initial weight std must be a number, got '${spec.init}' (use --model mlp for he/xavier)`);
      return new TwoLayerNet(spec.inputSize, spec.hidden[0], spec.outputSize, spec.init, common);
    }
    case 'mlp':
      return new MultiLayerNet(spec.inputSize, spec.hidden, spec.outputSize, {
        ...common,
        activation: spec.activation,
        weightInitStd: spec.init,
        weightDecayLambda: spec.weightDecay,
        useDropout: spec.dropout > 0,
        dropoutRatio: spec.dropout > 0 ? spec.dropout : undefined,
        useBatchnorm: spec.batchNorm,
      });
    case 'cnn': {
      if (spec.hidden.length !== 1) throw new RangeError(`cnn: exactly one hidden size (the affine layer), got ${spec.hidden.join(',')}`);
      if (typeof spec.init !== 'number') throw new RangeError(`cnn: the initial weight std must be a number, got '${spec.init}'`);
      const inputDim = spec.inputDim ?? [1, 28, 28];
      return new SimpleConvNet(inputDim, spec.conv ?? {}, spec.hidden[0], spec.outputSize, spec.init, common);
    }
    default:
      throw new RangeError(`unknown model '${String(spec.model)}' (expected ${MODEL_KINDS.join(', ')})`);
  }
}

/** What a network's own structure fixes of its spec: every field but `init` (which only drew the first weights). */
export type Architecture = Omit<ModelSpec, 'init'>;

/**
 * The architecture of a network built by buildNetwork (TwoLayerNet, MultiLayerNet or
 * SimpleConvNet), read from the network itself, or null for any other network. A spec
 * describes the network when each of these fields equals the spec's (with buildNetwork's
 * defaults for a cnn's conv and inputDim).
 *
 * @example architectureOf(new TwoLayerNet(784, 30, 10)).hidden // [30]
 */
export function architectureOf(network: Network): Architecture | null {
  const plain = { activation: 'relu', weightDecay: 0, dropout: 0, batchNorm: false } as const; // the book's ReLU nets
  const dtype = Object.values(network.params)[0]?.dtype ?? 'float32';
  if (network instanceof TwoLayerNet) {
    return { model: 'two-layer', inputSize: network.inputSize, outputSize: network.outputSize, hidden: [network.hiddenSize], ...plain, dtype };
  }
  if (network instanceof MultiLayerNet) {
    const dropout = network.useDropout ? (network.namedLayers.Dropout1 as Dropout).dropoutRatio : 0;
    return {
      model: 'mlp', inputSize: network.inputSize, outputSize: network.outputSize, hidden: [...network.hiddenSizeList],
      activation: network.activation, weightDecay: network.weightDecayLambda, dropout, batchNorm: network.useBatchnorm, dtype,
    };
  }
  if (network instanceof SimpleConvNet) {
    const [c, h, w] = network.inputDim;
    const { filterNum, filterSize, pad, stride } = network.convParam;
    return {
      model: 'cnn', inputSize: c * h * w, outputSize: network.outputSize, hidden: [network.hiddenSize], ...plain, dtype,
      conv: { filterNum, filterSize, pad, stride }, inputDim: [c, h, w],
    };
  }
  return null;
}

/** The fields of `spec` that differ from `architecture`, as "field: spec value, network value" triples. */
export function architectureDifferences(spec: ModelSpec, architecture: Architecture): [string, unknown, unknown][] {
  const given: Record<string, unknown> = { ...spec };
  if (architecture.model === 'cnn') {
    given.conv = { ...CONV_PARAM_DEFAULTS, ...(spec.conv ?? {}) };
    given.inputDim = spec.inputDim ?? [1, 28, 28];
  }
  const differences: [string, unknown, unknown][] = [];
  for (const [field, value] of Object.entries(architecture)) {
    let g = given[field];
    if (field === 'conv' && g && typeof g === 'object') {
      const { filterNum, filterSize, pad, stride } = g as ConvParam; // in the architecture's key order
      g = { filterNum, filterSize, pad, stride };
    }
    if (JSON.stringify(g) !== JSON.stringify(value)) differences.push([field, g, value]);
  }
  return differences;
}
