// Section 6.3.2: batch normalization makes training fast and far less sensitive to the initial
// weight scale (batch_norm_test.py). For each weight std w, two MultiLayerNet(784, [100 × 5], 10)
// start from the same weights, one with batch norm and one without, and learn 1,000 training
// digits with SGD(lr 0.01), batch 100, for 20 epochs on the same batches; each line prints the
// training accuracy without and with batch norm ("epoch:N | without - with").
// The book tries 16 scales, np.logspace(0, -4, 16); on the plain JavaScript backend this takes
// four of them (its panels 1, 4, 8 and 16): 1, 0.158, 0.0136 and 0.0001. Without batch norm
// only 0.158 learns; with it, all do, most far faster.
import { MultiLayerNet, Random, SGD, loadBundledDigits, ops, subset, toLabeledData, type Tensor } from '../src/node.js';

const digits = loadBundledDigits();
// reduce the training data: x_train[:1000]
const { x: xTrain, labels: tTrain } = toLabeledData(subset(digits.train, Int32Array.from({ length: 1000 }, (_, i) => i)));

const maxEpochs = 20;
const trainSize = xTrain.shape[0];
const batchSize = 100;
const learningRate = 0.01;
const iterPerEpoch = Math.max(trainSize / batchSize, 1);

function train(weightInitStd: number): { trainAcc: number; bnTrainAcc: number } {
  const hidden = [100, 100, 100, 100, 100];
  const bnNetwork = new MultiLayerNet(784, hidden, 10, { weightInitStd, useBatchnorm: true, seed: 0 });
  const network = new MultiLayerNet(784, hidden, 10, { weightInitStd, seed: 0 });
  const optimizer = new SGD({ lr: learningRate });
  const rng = new Random(1);
  const tBatch = new Int32Array(batchSize);
  let xBatch: Tensor | null = null;
  let trainAcc = 0;
  let bnTrainAcc = 0;
  let epochCnt = 0;
  for (let i = 0; ; i++) {
    const batchMask = rng.choice(trainSize, batchSize);
    xBatch = ops.gatherRows(xTrain, batchMask, xBatch);
    batchMask.forEach((k, j) => (tBatch[j] = tTrain[k]));

    for (const net of [bnNetwork, network]) {
      const grads = net.gradient(xBatch, tBatch);
      optimizer.update(net.params, grads);
    }

    if (i % iterPerEpoch === 0) {
      trainAcc = network.accuracy(xTrain, tTrain);
      bnTrainAcc = bnNetwork.accuracy(xTrain, tTrain);
      console.log(`epoch:${epochCnt} | ${trainAcc} - ${bnTrainAcc}`);
      epochCnt++;
      if (epochCnt >= maxEpochs) return { trainAcc, bnTrainAcc };
    }
  }
}

// np.logspace(0, -4, num=16): w_i = 10^(−4i/15)
const weightScaleList = Array.from({ length: 16 }, (_, i) => 10 ** ((-4 * i) / 15));
const chosen = [0, 3, 7, 15];
const results: [number, { trainAcc: number; bnTrainAcc: number }][] = [];
for (const i of chosen) {
  const w = weightScaleList[i];
  console.log(`============== ${i + 1}/16 (w = ${Number(w.toPrecision(3))}) ==============`);
  results.push([w, train(w)]);
}

console.log('\nfinal train accuracy');
console.log('weight std   without BN   with BN');
for (const [w, r] of results) {
  console.log(`${String(Number(w.toPrecision(3))).padEnd(11)}  ${r.trainAcc.toFixed(3).padStart(10)}   ${r.bnTrainAcc.toFixed(3).padStart(7)}`);
}
