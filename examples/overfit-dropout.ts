// Section 6.4.3: Dropout against overfitting (overfit_dropout.py). The same deep net and 300
// training digits as overfit-weight-decay, SGD(lr 0.01), batch 100, once without and once with
// Dropout (ratio 0.2) after each hidden ReLU: dropout slows the fit of the training set and
// narrows the gap between train and test accuracy.
// The book trains 301 epochs through its Trainer, measuring both accuracies every epoch; to
// finish in time on the plain JavaScript backend this trains 201 and measures every 10 epochs.
import { MultiLayerNet, Random, SGD, loadBundledDigits, ops, subset, toLabeledData, type Tensor } from '../src/node.js';

const digits = loadBundledDigits();
// reduce the training data, to reproduce overfitting: x_train[:300]
const { x: xTrain, labels: tTrain } = toLabeledData(subset(digits.train, Int32Array.from({ length: 300 }, (_, i) => i)));
const { x: xTest, labels: tTest } = toLabeledData(digits.test);

const maxEpochs = 201; // the book: 301
const trainSize = xTrain.shape[0];
const batchSize = 100;
const iterPerEpoch = Math.max(trainSize / batchSize, 1);
const printEvery = 10; // epochs; the book: 1

function train(useDropout: boolean, dropoutRatio = 0.2): { trainAcc: number; testAcc: number } {
  // the same seed: both nets start from the same weights; the dropout masks come after them
  const network = new MultiLayerNet(784, [100, 100, 100, 100, 100, 100], 10, { useDropout, dropoutRatio, seed: 0 });
  const optimizer = new SGD({ lr: 0.01 });
  const rng = new Random(1);
  const tBatch = new Int32Array(batchSize);
  let xBatch: Tensor | null = null;
  let epochCnt = 0;
  for (let i = 0; ; i++) {
    const batchMask = rng.choice(trainSize, batchSize);
    xBatch = ops.gatherRows(xTrain, batchMask, xBatch);
    batchMask.forEach((k, j) => (tBatch[j] = tTrain[k]));

    const grads = network.gradient(xBatch, tBatch); // training mode: a new dropout mask per batch
    optimizer.update(network.params, grads);

    if (i % iterPerEpoch === 0) {
      const last = epochCnt === maxEpochs - 1;
      if (epochCnt % printEvery === 0 || last) {
        const trainAcc = network.accuracy(xTrain, tTrain); // inference: every unit, scaled by 1 − ratio
        const testAcc = network.accuracy(xTest, tTest);
        console.log(`=== epoch:${epochCnt}, train acc:${trainAcc}, test acc:${testAcc} ===`);
        if (last) return { trainAcc, testAcc };
      }
      epochCnt++;
    }
  }
}

console.log('--- without dropout ---');
const plain = train(false);
console.log('--- dropout, ratio 0.2 ---');
const dropped = train(true);

const gap = (r: { trainAcc: number; testAcc: number }): string => (r.trainAcc - r.testAcc).toFixed(4);
console.log(`gap (train acc − test acc): without ${gap(plain)}, with dropout ${gap(dropped)}`);
