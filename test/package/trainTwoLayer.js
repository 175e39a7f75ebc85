// Shared by the package tests' Node script (node/train.mjs) and Vite app (app/train.worker.js),
// copied beside each: the book's TwoLayerNet trained on digits, on the current default backend.
import { Trainer, TwoLayerNet, getBackend, toLabeledData } from 'backprop-ts';

/**
 * Trains TwoLayerNet(784, 50, 10) for `iterations` (batch 100, SGD lr 0.1) on `digits`
 * ({ train, test } image sets); returns the backend, iterations/s and the test accuracy.
 */
export function trainTwoLayer(digits, iterations) {
  const backend = getBackend();
  const data = { train: toLabeledData(digits.train), test: toLabeledData(digits.test) };
  const net = new TwoLayerNet(784, 50, 10);
  const trainer = new Trainer(net, data, { iters: iterations, miniBatchSize: 100, optimizer: 'sgd', optimizerParams: { lr: 0.1 }, evaluateSampleNumPerEpoch: 200 });
  const started = performance.now();
  for (let i = 0; i < iterations; i++) trainer.trainStep();
  const seconds = (performance.now() - started) / 1000;
  return {
    backend: backend.name,
    threads: backend.threads ?? 1,
    singleThreadReason: backend.singleThreadReason ?? null,
    iterations,
    seconds,
    itersPerSec: iterations / seconds,
    accuracy: net.accuracy(data.test.x, data.test.labels),
  };
}
