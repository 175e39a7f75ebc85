// Section 5.7.4: training the two-layer net with backprop (train_neuralnet.py), on the
// bundled digits: 10,000 iterations, batch 100, lr 0.1; accuracy printed once per epoch.
import { Random, TwoLayerNet, loadBundledDigits, ops, toLabeledData } from '../src/node.js';

const digits = loadBundledDigits();
const { x: xTrain, labels: tTrain } = toLabeledData(digits.train);
const { x: xTest, labels: tTest } = toLabeledData(digits.test);

const rng = new Random(0);
const network = new TwoLayerNet(784, 50, 10, 0.01, { rng });

const itersNum = 10000;
const trainSize = xTrain.shape[0];
const batchSize = 100;
const learningRate = 0.1;
const iterPerEpoch = Math.max(trainSize / batchSize, 1);

const trainLossList: number[] = [];
const tBatch = new Int32Array(batchSize);
let xBatch = null;

for (let i = 0; i < itersNum; i++) {
  const batchMask = rng.choice(trainSize, batchSize);
  xBatch = ops.gatherRows(xTrain, batchMask, xBatch);
  batchMask.forEach((k, j) => (tBatch[j] = tTrain[k]));

  // gradient by backprop
  const grad = network.gradient(xBatch, tBatch);

  // update: W ← W − lr · dW
  for (const key of TwoLayerNet.paramNames) ops.axpyInto(-learningRate, grad[key], network.params[key]);

  trainLossList.push(network.lastLayer.loss!);

  if (i % iterPerEpoch === 0) {
    const trainAcc = network.accuracy(xTrain, tTrain);
    const testAcc = network.accuracy(xTest, tTest);
    console.log(trainAcc, testAcc);
  }
}
