// A Node script in a fresh project: the package imported by name, trained with no backend call
// (the default), then again after useBackend('js'); prints one JSON line of what it measured.
import { Trainer, TwoLayerNet, getBackend, loadBundledDigits, toLabeledData, useBackend } from 'backprop-ts';

const ITERATIONS = Number(process.argv[2] ?? 200);

function run() {
  const backend = getBackend();
  const digits = loadBundledDigits();
  const data = { train: toLabeledData(digits.train), test: toLabeledData(digits.test) };
  const net = new TwoLayerNet(784, 50, 10);
  const trainer = new Trainer(net, data, { iters: ITERATIONS, miniBatchSize: 100, optimizer: 'sgd', optimizerParams: { lr: 0.1 }, evaluateSampleNumPerEpoch: 200 });
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) trainer.trainStep();
  const seconds = (performance.now() - started) / 1000;
  return { backend: backend.name, threads: backend.threads ?? 1, itersPerSec: ITERATIONS / seconds, accuracy: net.accuracy(data.test.x, data.test.labels) };
}

const byDefault = run();
await useBackend('js');
const js = run();
console.log(JSON.stringify({ iterations: ITERATIONS, default: byDefault, js }));
