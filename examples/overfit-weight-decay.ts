// Section 6.4.1-6.4.2: overfitting, and weight decay against it (overfit_weight_decay.py). A deep
// net, MultiLayerNet(784, [100 × 6], 10), learns only 300 training digits with SGD(lr 0.01),
// batch 100, for 201 epochs: without regularisation it reaches train accuracy 1.0 while test
// accuracy stalls far below; with weight decay λ = 0.1 (loss += ½λ Σ‖W‖²) the gap shrinks.
// The book prints both accuracies every epoch; to finish in time on the plain JavaScript
// backend this measures them every 10 epochs (the test set is 2,000 images).
import { MultiLayerNet, Random, SGD, loadBundledDigits, ops, subset, toLabeledData, type Tensor } from '../src/node.js';

const digits = loadBundledDigits();
// reduce the training data, to reproduce overfitting: x_train[:300]
const { x: xTrain, labels: tTrain } = toLabeledData(subset(digits.train, Int32Array.from({ length: 300 }, (_, i) => i)));
const { x: xTest, labels: tTest } = toLabeledData(digits.test);

const maxEpochs = 201;
const trainSize = xTrain.shape[0];
const batchSize = 100;
const iterPerEpoch = Math.max(trainSize / batchSize, 1);
const printEvery = 10; // epochs; the book: 1

function train(weightDecayLambda: number): { trainAcc: number; testAcc: number } {
  const network = new MultiLayerNet(784, [100, 100, 100, 100, 100, 100], 10, { weightDecayLambda, seed: 0 });
  const optimizer = new SGD({ lr: 0.01 });
  const rng = new Random(1);
  const tBatch = new Int32Array(batchSize);
  let xBatch: Tensor | null = null;
  let epochCnt = 0;
  for (let i = 0; ; i++) {
    const batchMask = rng.choice(trainSize, batchSize);
    xBatch = ops.gatherRows(xTrain, batchMask, xBatch);
    batchMask.forEach((k, j) => (tBatch[j] = tTrain[k]));

    const grads = network.gradient(xBatch, tBatch);
    optimizer.update(network.params, grads);

    if (i % iterPerEpoch === 0) {
      const last = epochCnt === maxEpochs - 1;
      if (epochCnt % printEvery === 0 || last) {
        const trainAcc = network.accuracy(xTrain, tTrain);
        const testAcc = network.accuracy(xTest, tTest);
        console.log(`epoch:${epochCnt}, train acc:${trainAcc}, test acc:${testAcc}`);
        if (last) return { trainAcc, testAcc };
      }
      epochCnt++;
    }
  }
}

console.log('--- without weight decay ---');
const plain = train(0);
console.log('--- weight decay, lambda = 0.1 ---');
const decayed = train(0.1);

const gap = (r: { trainAcc: number; testAcc: number }): string => (r.trainAcc - r.testAcc).toFixed(4);
console.log(`gap (train acc − test acc): without ${gap(plain)}, with weight decay ${gap(decayed)}`);
