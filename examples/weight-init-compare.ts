// Section 6.2.4: the initial weights decide whether a deep ReLU net learns at all
// (weight_init_compare.py): MultiLayerNet(784, [100, 100, 100, 100], 10) started with std 0.01,
// Xavier (√(1/n)) and He (√(2/n)) weights, trained side by side with SGD(lr 0.01) on the same
// batches of 128 digits, printing each one's loss every 100 iterations. With std 0.01 the
// signals fade layer by layer and the loss stays at ln 10 ≈ 2.30; He learns fastest.
// The book runs 2,000 iterations; on the plain JavaScript backend this runs 300.
import { MultiLayerNet, Random, SGD, loadBundledDigits, ops, toLabeledData, type Tensor, type WeightInit } from '../src/node.js';

const digits = loadBundledDigits();
const { x: xTrain, labels: tTrain } = toLabeledData(digits.train);

const trainSize = xTrain.shape[0];
const batchSize = 128;
const maxIterations = 300; // the book: 2000

const weightInitTypes: Record<string, WeightInit> = { 'std=0.01': 0.01, Xavier: 'sigmoid', He: 'relu' };
const optimizer = new SGD({ lr: 0.01 });

const networks: Record<string, MultiLayerNet> = {};
const trainLoss: Record<string, number[]> = {};
for (const [key, weightType] of Object.entries(weightInitTypes)) {
  networks[key] = new MultiLayerNet(784, [100, 100, 100, 100], 10, { weightInitStd: weightType, seed: 0 });
  trainLoss[key] = [];
}

const rng = new Random(1);
const tBatch = new Int32Array(batchSize);
let xBatch: Tensor | null = null;
for (let i = 0; i < maxIterations; i++) {
  const batchMask = rng.choice(trainSize, batchSize);
  xBatch = ops.gatherRows(xTrain, batchMask, xBatch);
  batchMask.forEach((k, j) => (tBatch[j] = tTrain[k]));

  for (const key of Object.keys(weightInitTypes)) {
    const grads = networks[key].gradient(xBatch, tBatch);
    optimizer.update(networks[key].params, grads);
    trainLoss[key].push(networks[key].loss(xBatch, tBatch)); // the loss after the update, as the book
  }

  if (i % 100 === 0 || i === maxIterations - 1) {
    console.log(`===========iteration:${i}===========`);
    for (const key of Object.keys(weightInitTypes)) console.log(`${key}:${trainLoss[key][i]}`);
  }
}
