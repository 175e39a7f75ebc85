// Section 6.1.8: SGD, Momentum, AdaGrad and Adam training a 5-layer net on handwritten digits
// (optimizer_compare_mnist.py): MultiLayerNet(784, [100, 100, 100, 100], 10), batch 128, each
// optimizer with its default learning rate, printing each one's loss every 100 iterations.
// The book runs 2,000 iterations; on the plain JavaScript backend four nets × 2,000 take
// minutes, so this runs 300 (`backprop compare-optimizers` runs the full 2,000 and draws fig. 6-9).
import { AdaGrad, Adam, Momentum, MultiLayerNet, Random, SGD, loadBundledDigits, ops, toLabeledData, type Optimizer, type Tensor } from '../src/node.js';

const digits = loadBundledDigits();
const { x: xTrain, labels: tTrain } = toLabeledData(digits.train);

const trainSize = xTrain.shape[0];
const batchSize = 128;
const maxIterations = 300; // the book: 2000

const optimizers: Record<string, Optimizer> = {
  SGD: new SGD(),
  Momentum: new Momentum(),
  AdaGrad: new AdaGrad(),
  Adam: new Adam(),
};

// Unlike the book, every net starts from the same weights (seed 0), so only the optimizer differs.
const networks: Record<string, MultiLayerNet> = {};
const trainLoss: Record<string, number[]> = {};
for (const key of Object.keys(optimizers)) {
  networks[key] = new MultiLayerNet(784, [100, 100, 100, 100], 10, { seed: 0 });
  trainLoss[key] = [];
}

const rng = new Random(1);
const tBatch = new Int32Array(batchSize);
let xBatch: Tensor | null = null;
for (let i = 0; i < maxIterations; i++) {
  const batchMask = rng.choice(trainSize, batchSize);
  xBatch = ops.gatherRows(xTrain, batchMask, xBatch);
  batchMask.forEach((k, j) => (tBatch[j] = tTrain[k]));

  for (const [key, optimizer] of Object.entries(optimizers)) {
    const grads = networks[key].gradient(xBatch, tBatch);
    optimizer.update(networks[key].params, grads);
    trainLoss[key].push(networks[key].loss(xBatch, tBatch)); // the loss after the update, as the book
  }

  if (i % 100 === 0 || i === maxIterations - 1) {
    console.log(`===========iteration:${i}===========`);
    for (const key of Object.keys(optimizers)) console.log(`${key}:${trainLoss[key][i]}`);
  }
}
