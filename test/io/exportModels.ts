/**
 * The models the export tests check: each kind the CLI trains, trained briefly on the bundled
 * digits (so the classes are well apart and argmax is meaningful), and the first 1,000 test images.
 */
import assert from 'node:assert/strict';
import { loadData } from '../../src/cli/loadData.js';
import { buildNetwork, type ModelSpec, type Network } from '../../src/nets/buildNetwork.js';
import { CONV_PARAM_DEFAULTS } from '../../src/nets/SimpleConvNet.js';
import { Random } from '../../src/random.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { gatherRows, softmaxRows } from '../../src/tensor/ops.js';
import { Trainer, type TrainerState } from '../../src/train/Trainer.js';
import '../../src/kernels/nodeBackends.js'; // Node's WebAssembly backend for useBackend, as the package's Node entry sets it
import { useBackend } from '../../src/kernels/useBackend.js';
import { F, Conv2d, Linear, Model, Parameter, Variable, noGrad, type VariableLike } from '../../src/autograd/index.js';
import { AutogradTwoLayerNet } from '../../src/nets/AutogradTwoLayerNet.js';
import { Adam } from '../../src/optimizers/Adam.js';
import { Sequential } from '../../src/nets/Sequential.js';
import { Affine } from '../../src/layers/Affine.js';
import { BatchNormalization } from '../../src/layers/BatchNormalization.js';
import { Convolution } from '../../src/layers/Convolution.js';
import { Pooling } from '../../src/layers/Pooling.js';
import { Relu } from '../../src/layers/Relu.js';

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
export function projectPrediction(network: { predict(x: Tensor): Tensor }, x: Tensor): { logits: Float32Array; probabilities: Float32Array; classes: number[] } {
  const logits = network.predict(x);
  const copy = Float32Array.from(logits.data);
  const probabilities = Float32Array.from(softmaxRows(logits).data);
  return { logits: copy, probabilities, classes: argmaxOf(probabilities) };
}

/**
 * Asserts that a runtime's outputs agree with the project's prediction: max |Δ probability| ≤ 1e-5
 * and the same argmax. Returns the measured differences, for the figures.
 */
export function assertAgrees(runtime: { probabilities: ArrayLike<number>; logits: ArrayLike<number> }, ours: ReturnType<typeof projectPrediction>): string {
  const probDiff = maxAbsDiff(runtime.probabilities, ours.probabilities);
  const logitDiff = maxAbsDiff(runtime.logits, ours.logits);
  assert.ok(probDiff <= 1e-5, `max |Δ probability| ${probDiff} ≤ 1e-5`);
  assert.deepEqual(argmaxOf(runtime.probabilities), ours.classes, 'identical argmax');
  return `max |Δp| ${probDiff.toExponential(2)}, max |Δlogit| ${logitDiff.toExponential(2)}`;
}

/** The accuracy of `classes`, asserted high enough (> 0.7) for the argmax comparison to mean something. */
export function assertTrained(classes: number[], labels: ArrayLike<number>): number {
  const accuracy = classes.filter((c, i) => c === labels[i]).length / classes.length;
  assert.ok(accuracy > 0.7, `trained enough for a meaningful argmax (accuracy ${accuracy})`);
  return accuracy;
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

/** std · N(0, 1) draws of the given shape (float32). */
const normals = (shape: number[], std: number, rng: Random): Tensor =>
  Tensor.from(Float32Array.from({ length: shape[0] * shape[1] }, () => std * rng.normal()), shape);

/**
 * An autograd MLP with every mapped kind of step: linear → relu → matmul + add → tanh →
 * dropout (the book's: x · mask in training, x · (1 − ratio) at inference) → linear → batchNorm
 * (running statistics at inference) → sigmoid → linear without bias.
 */
class AutogradMlp extends Model {
  train = false;
  fc1 = new Linear(784, 64, { rng: new Random(2) });
  W2 = new Parameter(normals([64, 32], 0.125, new Random(5)), { name: 'W2' });
  b2 = new Parameter(Tensor.zeros([32]), { name: 'b2' });
  fc3 = new Linear(32, 32, { rng: new Random(3) });
  gamma = new Parameter(Tensor.from(Float32Array.from({ length: 32 }, () => 1), [32]), { name: 'gamma' });
  beta = new Parameter(Tensor.zeros([32]), { name: 'beta' });
  runningMean = Tensor.zeros([32]);
  runningVar = Tensor.zeros([32]);
  fc4 = new Linear(32, 10, { rng: new Random(4), nobias: true });
  forward(x: VariableLike): Variable {
    const h = F.relu(this.fc1.forward(x)).matmul(this.W2).add(this.b2);
    const d = F.dropout(F.tanh(h), 0.2, { train: this.train, rng: new Random(6) });
    const bn = F.batchNorm(this.fc3.forward(d), this.gamma, this.beta, { train: this.train, runningMean: this.runningMean, runningVar: this.runningVar });
    return this.fc4.forward(F.sigmoid(bn));
  }
}

/** An autograd CNN: conv2d (padded) → relu → pooling → reshape (N, −1) → linear. */
class AutogradCnn extends Model {
  train = false;
  conv = new Conv2d(1, 6, 5, { pad: 1, rng: new Random(2) });
  fc = new Linear(6 * 13 * 13, 10, { rng: new Random(3) });
  forward(x: VariableLike): Variable {
    const h = F.pooling(F.relu(this.conv.forward(x)), 2, 2, 2);
    return this.fc.forward(F.reshape(h, [h.shape[0], -1]));
  }
}

/** An autograd model the export tests check: the model, its input shape per example, and its own inference. */
export interface AutogradCase {
  model: Model;
  inputShape: number[];
  /** softmax inputs the model computes itself: forward under noGrad (dropout at inference). */
  predict(x: Tensor): Tensor;
  /** The ONNX nodes its forward must give, written out from the model's definition. */
  onnxOps: string[];
}

/** Trains an autograd model on the bundled digits (Adam, batch 100, seed 1): its loss is softmaxCrossEntropy(forward(x), t). */
function trainAutograd(model: Model & { train?: boolean }, inputShape: number[], iters: number, lr: number): void {
  const { x, labels } = digits().train;
  const rng = new Random(1);
  const adam = new Adam({ lr });
  model.train = true;
  for (let i = 0; i < iters; i++) {
    const index = rng.choice(x.shape[0], 100);
    const batch = gatherRows(x, index).reshape([100, ...inputShape]);
    const loss = F.softmaxCrossEntropy(model.forward(batch), Int32Array.from(index, (k) => labels[k]));
    model.cleargrads();
    loss.backward();
    adam.update(model.paramTensors(), model.gradTensors());
  }
  model.train = false;
}

/** softmax inputs as the model computes them itself: forward under noGrad, on x reshaped to (N, ...inputShape). */
const ownInference = (model: Model, inputShape: number[]) => (x: Tensor): Tensor =>
  noGrad(() => model.forward(Variable.constant(x.reshape([x.shape[0], ...inputShape]))).data);

/** A trained case of `model`. */
function autogradCase(model: Model & { train?: boolean }, inputShape: number[], iters: number, lr: number, onnxOps: string[]): AutogradCase {
  trainAutograd(model, inputShape, iters, lr);
  return { model, inputShape, predict: ownInference(model, inputShape), onnxOps };
}

/** The autograd models of the export tests, each made and trained briefly (so that argmax is meaningful) when called. */
export const AUTOGRAD_MODELS: Record<string, () => AutogradCase> = {
  AutogradTwoLayerNet: () => autogradCase(new AutogradTwoLayerNet(784, 50, 10, { seed: 1 }), [784], 200, 0.002, ['Gemm', 'Relu', 'Gemm', 'Softmax']),
  'autograd MLP (linear, matmul + add, relu, tanh, dropout 0.2, batchNorm, sigmoid, no bias)': () => autogradCase(new AutogradMlp(), [784], 200, 0.002,
    ['Gemm', 'Relu', 'Gemm', 'Tanh', 'Mul', 'Gemm', 'BatchNormalization', 'Sigmoid', 'Gemm', 'Softmax']),
  'autograd CNN (conv2d padded, relu, pooling, reshape, linear)': () => autogradCase(new AutogradCnn(), [1, 28, 28], 60, 0.003,
    ['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Softmax']),
};

/** A small convolutional Sequential with what the exporters must get exactly right at the edges, its input shape, and inputs. */
export interface EdgeCase {
  net: Sequential;
  inputShape: number[];
  x: Tensor;
}

/**
 * Convolutional Sequentials from random weights (seed `seed`): batch norm after a convolution
 * (per C·H·W feature, as the book's x.reshape(N, −1)); max pooling with pad 1 straight after it,
 * where the book's zero padding wins windows whose values are all negative; and windows that do
 * not tile a side (stride 2: the last partial window is dropped).
 */
export function edgeCases(seed: number): Record<string, EdgeCase> {
  const rng = new Random(seed);
  const rand = (shape: number[], scale = 0.5, offset = 0): Tensor => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b) }, () => offset + rng.normal() * scale), shape);
  const positive = (shape: number[]): Tensor => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b) }, () => 0.5 + rng.next()), shape);
  return {
    'conv → batch norm per C·H·W → padded max pooling → affine': {
      // conv 2×1×3×3 on 1×6×6 → 2×4×4 = 32 features; pooling 2×2, stride 2, pad 1 → 2×3×3 = 18
      net: new Sequential([
        new Convolution(rand([2, 1, 3, 3]), rand([2], 0.5, -1)),
        new BatchNormalization(positive([32]), rand([32], 0.5, -1), 0.9, rand([32], 0.2), positive([32])),
        new Pooling(2, 2, 2, 1),
        new Affine(rand([18, 3]), rand([3])),
      ]),
      inputShape: [1, 6, 6],
      x: rand([5, 1, 6, 6]),
    },
    'stride-2 conv and pooling with partial windows': {
      // conv 3×2×3×3 stride 2 on 2×8×8 → 3×3×3 (⌊5/2⌋ + 1); pooling 2×2 stride 2 → 3×1×1
      net: new Sequential([new Convolution(rand([3, 2, 3, 3]), rand([3]), 2, 0), new Relu(), new Pooling(2, 2, 2), new Affine(rand([3, 4]), rand([4]))]),
      inputShape: [2, 8, 8],
      x: rand([4, 2, 8, 8]),
    },
  };
}
