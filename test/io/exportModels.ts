/**
 * The models the export tests check: each kind the CLI trains, trained briefly on the bundled
 * digits (so the classes are well apart and argmax is meaningful), and the first 1,000 test images.
 */
import { loadData } from '../../src/cli/loadData.js';
import { buildNetwork, type ModelSpec, type Network } from '../../src/nets/buildNetwork.js';
import { CONV_PARAM_DEFAULTS } from '../../src/nets/SimpleConvNet.js';
import { Random } from '../../src/random.js';
import type { Tensor } from '../../src/tensor/Tensor.js';
import { gatherRows, softmaxRows } from '../../src/tensor/ops.js';
import { Trainer, type TrainerState } from '../../src/train/Trainer.js';
import { useBackend } from '../../src/kernels/useBackend.js';

/** The fastest kernels (WebAssembly SIMD): the CNN trains in seconds instead of a minute. Call before training. */
export const fastKernels = (): Promise<unknown> => useBackend('auto', { threads: 1 });

const BASE: ModelSpec = {
  model: 'two-layer', inputSize: 784, outputSize: 10, hidden: [50], activation: 'relu', init: 0.01,
  weightDecay: 0, dropout: 0, batchNorm: false, dtype: 'float32',
};

/** Every kind of model, with the features the exporters must map. */
export const SPECS: Record<string, ModelSpec> = {
  'two-layer': BASE,
  'mlp relu, batch norm, dropout 0.2': { ...BASE, model: 'mlp', hidden: [100, 100], init: 'he', batchNorm: true, dropout: 0.2 },
  'mlp sigmoid, dropout 0.5': { ...BASE, model: 'mlp', hidden: [100, 50], activation: 'sigmoid', init: 'xavier', dropout: 0.5 },
  'mlp tanh, batch norm': { ...BASE, model: 'mlp', hidden: [64, 64, 64], activation: 'tanh', init: 'xavier', batchNorm: true },
  cnn: { ...BASE, model: 'cnn', hidden: [100], conv: { ...CONV_PARAM_DEFAULTS }, inputDim: [1, 28, 28] },
};

export interface TrainedModel {
  spec: ModelSpec;
  network: Network;
  state: TrainerState;
}

let data: ReturnType<typeof loadData> | null = null;
const digits = (): ReturnType<typeof loadData> => (data ??= loadData(undefined, { dtype: 'float32' }));

/** A model of `spec` trained for `iters` iterations (Adam, batch 100, seed 1); its history has the accuracy after iteration 1 on 200 images. */
export function trainModel(spec: ModelSpec, iters = spec.model === 'cnn' ? 60 : 300): TrainedModel {
  const rng = new Random(1);
  const network = buildNetwork(spec, { rng });
  const lr = spec.model === 'cnn' ? 0.002 : spec.activation === 'sigmoid' ? 0.005 : 0.001;
  const trainer = new Trainer(network, digits(), { iters, miniBatchSize: 100, optimizer: 'adam', optimizerParams: { lr }, rng, evaluateSampleNumPerEpoch: 200 });
  // steps without train()'s final evaluation on all 10,000 images (the CNN's would take a minute)
  for (let i = 0; i < iters; i++) trainer.trainStep();
  return { spec, network, state: trainer.getState() };
}

/** The first 1,000 test images (N×784, pixels in [0, 1]) and their labels. */
export function testImages(count = 1000): { x: Tensor; pixels: Float32Array; labels: Int32Array } {
  const { x, labels } = digits().test;
  const index = Int32Array.from({ length: count }, (_, i) => i);
  const rows = gatherRows(x, index);
  return { x: rows, pixels: Float32Array.from(rows.data), labels: labels.slice(0, count) };
}

/** What the project itself predicts: softmax(predict(x)) and its argmax per row. */
export function projectPrediction(network: Network, x: Tensor): { logits: Float32Array; probabilities: Float32Array; classes: number[] } {
  const logits = network.predict(x);
  const copy = Float32Array.from(logits.data);
  const probabilities = Float32Array.from(softmaxRows(logits).data);
  return { logits: copy, probabilities, classes: argmaxOf(probabilities) };
}

/** max |a − b| over all elements. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The index of the largest value of each row of 10. */
export function argmaxOf(values: ArrayLike<number>, classes = 10): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / classes; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c] > values[r * classes + best]) best = c;
    out.push(best);
  }
  return out;
}
